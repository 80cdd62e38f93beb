"""Alembic migrations of the econsult schema (``contracts.schema``)."""
