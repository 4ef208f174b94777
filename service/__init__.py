"""perfloop service: FastAPI app, storage and prediction serving."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("perfloop")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
