"""Alembic migrations of the colift schema; run them with `colift.store.migrate`."""
