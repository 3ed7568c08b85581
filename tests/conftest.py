"""Fixtures every test directory shares: a running onestack per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import RunningCloud, new_cloud


@pytest.fixture(scope="session", autouse=True)
def _forget_test_clouds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """At the end, remove the host-wide owner records of this session's clouds that
    left nothing on the host (a record that still lists a namespace or link stays, so
    that ``onestack doctor`` finds it)."""
    yield
    from onestack.common import owners
    from onestack.network.drivers.linux import commands

    base = tmp_path_factory.getbasetemp().resolve()
    try:
        present = commands.namespaces() | commands.links()
    except Exception:
        present = set()
    for owner in owners.all_owners():
        if not owner.state_dir.resolve().is_relative_to(base) or owner.alive():
            continue
        if not owner.names("network") & present:
            owners.forget(owner)


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
