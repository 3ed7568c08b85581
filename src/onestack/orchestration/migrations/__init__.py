"""Alembic migrations of the orchestration tables (branch label ``orchestration``)."""
