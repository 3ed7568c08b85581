"""Alembic migrations, one version directory (and branch label) per service.

``upgrade(db)`` runs every service's migrations to their heads; ``onestack
up`` calls it at every start, so a newer onestack upgrades the schema of an
older state directory in place.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from onestack.common.db import Database

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


def upgrade(db: Database, packages: Sequence[str]) -> None:
    """Migrate to every head; a database already there costs one query, not Alembic."""
    everything = ["onestack.common", *[p for p in packages if p != "onestack.common"]]
    if _heads_in_database(db) == _heads_on_disk(_version_locations(everything)):
        return
    from alembic import command

    command.upgrade(alembic_config(db, packages), "heads")
