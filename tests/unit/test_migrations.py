"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from onestack.common.db import Base, Database
from onestack.common.migrations import upgrade
from onestack.server import load_plugins


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    packages = [p.package for p in load_plugins() if p.package]
    for package in packages:
        importlib.import_module(f"{package}.models")
    db = Database(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        upgrade(db, packages)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == [], "models changed without a migration:\n" + "\n".join(
            map(str, differences)
        )
    finally:
        db.dispose()


def test_second_upgrade_is_a_no_op(tmp_path: Path) -> None:
    packages = [p.package for p in load_plugins() if p.package]
    db = Database(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        upgrade(db, packages)
        upgrade(db, packages)
    finally:
        db.dispose()
