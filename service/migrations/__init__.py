"""Alembic migrations: the only way the schema changes (`service.schema` runs them)."""
