"""Measuring backends: each turns one model into a measurement on one kind of hardware."""
