"""The identity tests run against SQLite and against the local PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.databases import postgres_database
from tests.support.server import RunningCloud, new_cloud


@pytest.fixture(
    scope="package", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def cloud(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningCloud]:
    base = tmp_path_factory.mktemp(f"identity-{request.param}")
    if request.param == "sqlite":
        running = new_cloud(base).start()
        try:
            yield running
        finally:
            running.stop()
        return
    with postgres_database() as url:
        running = new_cloud(base, db_url=url).start()
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="package")
def admin(cloud: RunningCloud) -> object:
    return cloud.connect("admin", "admin")


@pytest.fixture(scope="package")
def demo(cloud: RunningCloud) -> object:
    return cloud.connect("demo", "demo")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The CLI stories test the client, not the database: run them on SQLite only."""
    keep, drop = [], []
    for item in items:
        if item.get_closest_marker("cli") and "[postgresql]" in item.nodeid:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
