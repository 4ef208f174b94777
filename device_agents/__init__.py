"""perfloop device agents: lease measurement jobs over HTTP and run them on a backend."""
