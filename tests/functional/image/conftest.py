"""Fixtures of the image tests: the shared cloud, its image endpoint, clean-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.http import RawClient
from tests.support.server import RunningCloud


class ImageAPI(RawClient):
    """Raw HTTP to the image API, for what the SDK cannot express."""

    def __init__(self, cloud: RunningCloud, conn: Any) -> None:
        super().__init__(
            cloud.url("image"),
            lambda: str(conn.session.get_token()),
            headers={"Accept": "application/json"},
        )
        self.conn = conn


@pytest.fixture(scope="session")
def admin_api(cloud: RunningCloud, admin: Any) -> ImageAPI:
    return ImageAPI(cloud, admin)


@pytest.fixture(scope="session")
def demo_api(cloud: RunningCloud, demo: Any) -> ImageAPI:
    return ImageAPI(cloud, demo)


@pytest.fixture(scope="session")
def store_dir(cloud: RunningCloud) -> Path:
    return cloud.state_dir / "images"


@pytest.fixture()
def made(admin: Any) -> Iterator[list[str]]:
    """Ids of images a test created; deleted afterwards whatever happened."""
    ids: list[str] = []
    yield ids
    for image_id in ids:
        try:
            admin.image.update_image(image_id, is_protected=False)
            admin.image.delete_image(image_id, ignore_missing=True)
        except Exception:
            pass


def stray_files(store_dir: Path) -> list[Path]:
    """Temporary upload files left in the store (there must never be any)."""
    return [p for p in store_dir.rglob("*.part")]
