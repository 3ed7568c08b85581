"""The compute API tests run on one onestack with the fake compute driver.

They say so: ``ONESTACK_COMPUTE__DRIVER=fake`` (no containers), so they need
no root.  ``tests/e2e/compute`` runs real containers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.names import unique
from tests.support.server import RunningCloud, new_cloud


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(tmp_path_factory.mktemp("compute"), ONESTACK_COMPUTE__DRIVER="fake").start()
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


@pytest.fixture(scope="package")
def image_id(admin: Any) -> str:
    image = admin.image.find_image("onestack-busybox")
    assert image is not None, "the default image is missing"
    return str(image.id)


@pytest.fixture()
def make_server(image_id: str) -> Iterator[Callable[..., Any]]:
    """Create servers (waited ACTIVE unless wait=False); delete them afterwards."""
    made: list[tuple[Any, Any]] = []

    def make(conn: Any, wait: bool = True, **attrs: Any) -> Any:
        attrs.setdefault("name", unique("srv"))
        attrs.setdefault("image_id", image_id)
        attrs.setdefault("flavor_id", "42")
        attrs.setdefault("networks", "none")
        server = conn.compute.create_server(**attrs)
        made.append((conn, server))
        if wait:
            server = conn.compute.wait_for_server(server, interval=0.1, wait=60)
        return server

    yield make
    for conn, server in made:
        try:
            conn.compute.delete_server(server, ignore_missing=True)
        except Exception:
            pass
    for conn, server in made:
        try:
            conn.compute.wait_for_delete(server, interval=0.1, wait=30)
        except Exception:
            pass


def raw(conn: Any, method: str, path: str, version: str = "2.1", **kwargs: Any) -> Any:
    """A raw compute API request (no exception on errors)."""
    return getattr(conn.compute, method)(path, microversion=version, raise_exc=False, **kwargs)
