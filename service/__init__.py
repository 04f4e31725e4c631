"""hashbank service: the FastAPI app, storage and change-log sync."""
