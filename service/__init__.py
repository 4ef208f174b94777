"""perfloop service: FastAPI app, storage and prediction serving."""
