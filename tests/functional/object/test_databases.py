"""Container listings on PostgreSQL and MariaDB: byte order and case-sensitive names."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.functional.object.conftest import swift_connection
from tests.support.databases import mariadb_database, postgres_database
from tests.support.names import unique
from tests.support.server import new_cloud

NAMES = ["b", "B", "a", "A", "\u00e9", "a/b", "a.b", "Z"]


@pytest.mark.parametrize(
    "database",
    [
        pytest.param(postgres_database, marks=pytest.mark.postgres, id="postgresql"),
        pytest.param(mariadb_database, marks=pytest.mark.mariadb, id="mariadb"),
    ],
)
def test_listing_is_in_byte_order(
    tmp_path: Path, database: Callable[[], AbstractContextManager[str]]
) -> None:
    with database() as url:
        running = new_cloud(tmp_path, db_url=url).start()
        try:
            conn = swift_connection(running, "admin")
            container = unique("order")
            conn.put_container(container)
            for name in NAMES:
                conn.put_object(container, name, contents=name.encode())
            _, listing = conn.get_container(container)
            listed = [item["name"] for item in listing]
            assert listed == sorted(NAMES, key=lambda n: n.encode())
            assert conn.get_object(container, "A")[1] == b"A"
            assert conn.get_object(container, "a")[1] == b"a"
        finally:
            running.stop()
