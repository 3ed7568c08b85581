"""Fixtures of the Metric API tests: gnocchiclient as admin and as demo, and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cli import Cli
from tests.support.names import unique
from tests.support.server import RunningCloud


def client(cloud: RunningCloud, user: str, project: str) -> Any:
    from gnocchiclient.v1 import client as gnocchi

    return gnocchi.Client(session=cloud.session(user, project))


@pytest.fixture(scope="session")
def gnocchi(cloud: RunningCloud) -> Any:
    """gnocchiclient as the admin."""
    return client(cloud, "admin", "admin")


@pytest.fixture(scope="session")
def gnocchi_demo(cloud: RunningCloud) -> Any:
    """gnocchiclient as the demo user (a project member, not admin)."""
    return client(cloud, "demo", "demo")


@pytest.fixture(scope="session")
def osc(cloud: RunningCloud) -> Cli:
    return Cli(cloud)


@pytest.fixture()
def policy_name(gnocchi: Any) -> Iterator[str]:
    """A fresh archive policy (1 s for an hour, 1 min for a day), deleted afterwards."""
    name = unique("ap")
    gnocchi.archive_policy.create(
        {
            "name": name,
            "back_window": 0,
            "aggregation_methods": ["*"],
            "definition": [
                {"granularity": "1 second", "timespan": "1 hour"},
                {"granularity": "60", "points": 1440},
            ],
        }
    )
    yield name
    for metric in gnocchi.metric.list():
        if metric["archive_policy"]["name"] == name:
            gnocchi.metric.delete(metric["id"])
    gnocchi.archive_policy.delete(name)
