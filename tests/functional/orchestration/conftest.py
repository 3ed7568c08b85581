"""The orchestration tests run on one onestack with the fake compute driver.

They say so: ``ONESTACK_COMPUTE__DRIVER=fake`` (servers are records, not
containers), so they need no root; stacks still create real records in every
other service through their HTTP APIs, with the stack's trust.
``tests/e2e/orchestration`` runs the same kind of stack on real containers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.server import RunningCloud, new_cloud


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(
        tmp_path_factory.mktemp("orchestration"),
        ONESTACK_COMPUTE__DRIVER="fake",
        ONESTACK_ORCHESTRATION__POLL_INTERVAL="0.1",
    ).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def admin(cloud: RunningCloud) -> Any:
    return cloud.connect("admin", "admin")


@pytest.fixture(scope="package")
def demo(cloud: RunningCloud) -> Any:
    return cloud.connect("demo", "demo")
