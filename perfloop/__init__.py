"""perfloop command-line entry point; composes the CLIs of predictor, service and device_agents."""

__version__ = "0.1.0"
