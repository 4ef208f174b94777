"""Training of the perfloop model: masked log-space loss and the training loop."""
