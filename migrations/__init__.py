"""Alembic migrations of the service database.

Installed as the package ``service.migrations`` (``[tool.setuptools.package-dir]`` maps it to
this top-level folder), so an installed wheel finds them through importlib.resources.
"""
