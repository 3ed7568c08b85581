"""Alembic migrations, one version directory (and branch label) per service.

``upgrade(db)`` runs every service's migrations to their heads; ``onestack
up`` calls it at every start, so a newer onestack upgrades the schema of an
older state directory in place.  A new, empty SQLite database skips the
replay: its tables are created from the models (which the unit tests prove
equal to what the migrations build) and stamped with the heads, as Alembic's
``stamp`` would, in one transaction.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from onestack.common.db import Base, Database

if TYPE_CHECKING:
    from alembic.config import Config

_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def _version_locations(packages: Sequence[str]) -> list[str]:
    locations = []
    for name in packages:
        module = importlib.import_module(name)
        assert module.__file__ is not None
        path = Path(module.__file__).parent / "migrations" / "versions"
        if path.is_dir():
            locations.append(str(path))
    return locations


def _heads_on_disk(locations: Sequence[str]) -> set[str]:
    """Head revisions read from the version files (no Alembic import)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for location in locations:
        for path in Path(location).glob("*.py"):
            source = path.read_text()
            revision = _REVISION.search(source)
            if revision is None:
                continue
            revisions.add(revision.group(1))
            down = _DOWN.search(source)
            if down is not None:
                parents.update(_QUOTED.findall(down.group(1)))
    return revisions - parents


def _heads_in_database(db: Database) -> set[str] | None:
    try:
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    except DBAPIError:
        return None


def alembic_config(db: Database, packages: Sequence[str]) -> Config:
    """Alembic's configuration for ``packages`` (each with ``models`` and
    ``migrations/versions``), the framework's own tables first."""
    from alembic.config import Config

    packages = ["onestack.common", *[p for p in packages if p != "onestack.common"]]
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.set_main_option("version_locations", " ".join(_version_locations(packages)))
    config.set_main_option("version_path_separator", " ")
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    config.attributes["database"] = db
    config.attributes["packages"] = packages
    return config


def _create_fresh(db: Database, packages: Sequence[str], heads: set[str]) -> bool:
    """Create a new SQLite database's schema from the models; False if it is not new."""
    if not db.is_sqlite:
        return False
    for name in packages:
        importlib.import_module(f"{name}.models")
    tables = [
        mapper.local_table
        for mapper in Base.registry.mappers
        if mapper.class_.__module__.startswith(tuple(f"{name}." for name in packages))
    ]
    with db.writer() as session:
        connection = session.connection()
        if inspect(connection).get_table_names():
            return False
        Base.metadata.create_all(connection, tables=tables)  # type: ignore[arg-type]
        connection.execute(
            text(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
        )
        for head in sorted(heads):
            connection.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head}
            )
    return True


def upgrade(db: Database, packages: Sequence[str]) -> None:
    """Migrate to every head; a database already there costs one query, not Alembic."""
    everything = ["onestack.common", *[p for p in packages if p != "onestack.common"]]
    heads = _heads_on_disk(_version_locations(everything))
    found = _heads_in_database(db)
    if found == heads:
        return
    if found is None and _create_fresh(db, everything, heads):
        return
    from alembic import command

    command.upgrade(alembic_config(db, packages), "heads")
