"""Measured-latency tables and the published device splits."""
