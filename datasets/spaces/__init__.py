"""Search-space manifests and reference architectures.

Installed as the package data of ``predictor.spaces.data`` (``[tool.setuptools.package-dir]``
maps it to this folder), read through importlib.resources.
"""
