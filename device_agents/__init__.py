"""perfloop device agents: lease measurement jobs over HTTP and run them on a backend."""

__version__ = "0.1.0"
