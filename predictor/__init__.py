"""perfloop predictor: ONNX -> graph IR -> features -> GNN -> predictions.

A pure ML library: it imports nothing from ``service`` or ``device_agents``.
"""
