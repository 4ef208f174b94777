"""Accuracy benchmarks on the measured latency tables (few-shot and full-shot)."""
