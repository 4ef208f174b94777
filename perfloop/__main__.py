"""``python -m perfloop``: the same as the ``perfloop`` console script."""

from perfloop.cli import app

app()
