"""Fixtures every test directory shares: a running onestack per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import RunningCloud, new_cloud


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """One real onestack (SQLite) for the whole session."""
    running = new_cloud(tmp_path_factory.mktemp("onestack")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def admin(cloud: RunningCloud) -> object:
    """openstacksdk connection as the bootstrap admin (project admin)."""
    return cloud.connect("admin", "admin")


@pytest.fixture(scope="session")
def demo(cloud: RunningCloud) -> object:
    """openstacksdk connection as the bootstrap demo user (member of demo)."""
    return cloud.connect("demo", "demo")


@pytest.fixture()
def state_base(tmp_path: Path) -> Path:
    return tmp_path
