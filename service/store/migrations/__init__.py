"""Alembic migrations: the only way the schema changes (`service.store.schema` runs them)."""
