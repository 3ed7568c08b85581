"""Alembic environment: runs on the engine of the Database being migrated."""

from __future__ import annotations

import importlib

from alembic import context

from onestack.common.db import Base

config = context.config
database = config.attributes.get("database")
for package in config.attributes.get("packages", ()):
    importlib.import_module(f"{package}.models")  # registers the package's tables


def run_online() -> None:
    if database is None:
        from onestack.common.db import Database

        db = Database(config.get_main_option("sqlalchemy.url") or "")
    else:
        db = database
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=db.is_sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_online()
