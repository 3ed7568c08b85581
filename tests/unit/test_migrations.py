"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from onestack.common.db import Base, Database
from onestack.common.migrations import alembic_config, upgrade
from onestack.server import load_plugins


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    packages = [p.package for p in load_plugins() if p.package]
    for package in packages:
        importlib.import_module(f"{package}.models")
    db = Database(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        command.upgrade(alembic_config(db, packages), "heads")  # the replay, always
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == [], "models changed without a migration:\n" + "\n".join(
            map(str, differences)
        )
    finally:
        db.dispose()


def _schema(db: Database) -> dict[str, dict[str, object]]:
    """Every table's columns (name, type, nullability, default), primary key, unique,
    check and foreign-key constraints and indexes, as comparable values."""
    with db.engine.connect() as connection:
        found = inspect(connection)
        return {
            table: {
                "columns": sorted(
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in found.get_columns(table)
                ),
                "primary_key": found.get_pk_constraint(table)["constrained_columns"],
                "unique": sorted(
                    str(sorted(u.items())) for u in found.get_unique_constraints(table)
                ),
                "checks": sorted(
                    str(sorted(c.items())) for c in found.get_check_constraints(table)
                ),
                "indexes": sorted(str(sorted(i.items())) for i in found.get_indexes(table)),
                "foreign_keys": sorted(
                    str(sorted(f.items())) for f in found.get_foreign_keys(table)
                ),
            }
            for table in found.get_table_names()
        }


def _stamped(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return {row[0] for row in connection.execute(text("SELECT * FROM alembic_version"))}


def test_second_upgrade_is_a_no_op(tmp_path: Path) -> None:
    """After an upgrade, upgrading again (at start-up, and through Alembic itself)
    changes no table, column, type, index, constraint or stamped head."""
    packages = [p.package for p in load_plugins() if p.package]
    db = Database(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        upgrade(db, packages)
        schema, heads = _schema(db), _stamped(db)
        assert "quota_limits" in schema and len(schema) > 10
        upgrade(db, packages)
        command.upgrade(alembic_config(db, packages), "heads")
        assert _schema(db) == schema
        assert _stamped(db) == heads
    finally:
        db.dispose()


def test_a_new_database_gets_the_replayed_schema_and_heads(tmp_path: Path) -> None:
    packages = [p.package for p in load_plugins() if p.package]
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    replayed = Database(f"sqlite:///{tmp_path / 'replayed.db'}")
    try:
        upgrade(fresh, packages)  # the new-database path: models, then stamped
        config = alembic_config(replayed, packages)
        command.upgrade(config, "heads")
        assert _schema(fresh) == _schema(replayed)
        heads = set(ScriptDirectory.from_config(config).get_heads())
        assert _stamped(fresh) == heads
        command.upgrade(alembic_config(fresh, packages), "heads")  # nothing left to run
        assert _schema(fresh) == _schema(replayed)
    finally:
        fresh.dispose()
        replayed.dispose()
