"""Graph IR -> tensors: the only place that turns a :class:`GraphIR` into model input."""
