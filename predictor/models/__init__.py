"""Neural networks of the predictor: graph encoder and device-conditioned heads."""
