"""Fixtures of the volume tests: raw HTTP for what the SDK hides, and clean-up."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.http import RawClient
from tests.support.names import unique
from tests.support.server import RunningCloud


class VolumeAPI(RawClient):
    """Raw HTTP to the block-storage API (error bodies, microversions, odd URLs)."""

    def __init__(self, cloud: RunningCloud, conn: Any) -> None:
        super().__init__(cloud.url("volume"), lambda: str(conn.session.get_token()))
        self.root = self.base
        self.conn = conn
        self.project_id = str(conn.current_project_id)

    def request(  # type: ignore[override]
        self,
        method: str,
        path: str,
        *,
        version: str | None = "3.71",
        project: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if version:
            headers["OpenStack-API-Version"] = f"volume {version}"
        prefix = f"/v3/{self.project_id}" if project else "/v3"
        return super().request(method, prefix + path, headers=headers, **kwargs)

    def wait(self, path: str, key: str, status: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = self.request("GET", path).json()[key]
            if body["status"] == status:
                return body
            if body["status"] == "error":
                raise AssertionError(f"{path} went to error: {body}")
            time.sleep(0.1)
        raise AssertionError(f"{path} stayed {body.get('status')}, wanted {status}")


@pytest.fixture(scope="session")
def admin_api(cloud: RunningCloud, admin: Any) -> VolumeAPI:
    return VolumeAPI(cloud, admin)


@pytest.fixture(scope="session")
def demo_api(cloud: RunningCloud, demo: Any) -> VolumeAPI:
    return VolumeAPI(cloud, demo)


def wait_volume(conn: Any, volume_id: str, status: str, timeout: float = 60) -> Any:
    """Poll the server (not the SDK's cached object) until the volume has ``status``."""
    deadline = time.monotonic() + timeout
    volume = None
    while time.monotonic() < deadline:
        volume = conn.block_storage.get_volume(volume_id)
        if volume.status == status:
            return volume
        if volume.status.startswith("error"):
            raise AssertionError(f"volume {volume_id} went to {volume.status}")
        time.sleep(0.1)
    raise AssertionError(f"volume {volume_id} stayed {volume and volume.status}")


def wait_gone(conn: Any, volume_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.block_storage.find_volume(volume_id, ignore_missing=True) is None:
            return
        time.sleep(0.1)
    raise AssertionError(f"volume {volume_id} was not deleted")


@pytest.fixture()
def make_volume(admin: Any, demo: Any) -> Iterator[Callable[..., Any]]:
    """Create volumes (as ``conn``, default demo) and wait until available;
    deletes whatever is left afterwards (attachments, snapshots included)."""
    made: list[tuple[Any, str]] = []

    def make(conn: Any = None, size: int = 1, wait: bool = True, **attrs: Any) -> Any:
        conn = conn or demo
        attrs.setdefault("name", unique("vol"))
        volume = conn.block_storage.create_volume(size=size, **attrs)
        made.append((conn, volume.id))
        if wait:
            volume = conn.block_storage.wait_for_status(volume, "available", wait=60, interval=0.1)
        return volume

    yield make
    for _conn, volume_id in made:
        volume = admin.block_storage.find_volume(volume_id, ignore_missing=True, all_projects=True)
        if volume is None:
            continue
        api = admin.block_storage
        for attachment in api.attachments(volume_id=volume_id, all_projects=True):
            try:
                api.delete_attachment(attachment.id)
            except Exception:
                pass
        try:
            if volume.status not in ("available", "error"):
                api.reset_volume_status(
                    volume, status="available", attach_status="detached", migration_status=None
                )
            api.delete(f"/volumes/{volume_id}?cascade=true")
        except Exception:
            pass
