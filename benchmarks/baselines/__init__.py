"""Baselines the perfloop predictor is compared with, fitted on the same samples."""
