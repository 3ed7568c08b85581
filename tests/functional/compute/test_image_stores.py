"""A server boots from an image held only in object storage (the fake driver)."""

from __future__ import annotations

from typing import Any

from tests.support.names import unique
from tests.support.server import RunningCloud


def test_server_boots_from_an_image_only_in_object_storage(
    admin: Any, image_id: str, make_server: Any, cloud: RunningCloud
) -> None:
    data = admin.image.download_image(image_id).content
    busybox = admin.image.get_image(image_id)
    image = admin.image.create_image(
        name=unique("swift-only"),
        data=data,
        disk_format="raw",
        container_format="bare",
        allow_duplicates=True,
        **{k: v for k, v in busybox.properties.items() if k.startswith("onestack")},
    )
    try:
        stores = admin.image.get(f"/images/{image.id}").json()["stores"]
        assert stores == "swift"
        server = make_server(admin, image_id=image.id)
        assert server.status == "ACTIVE"
        # the compute host fetched the image through the image API into its cache
        cached = cloud.state_dir / "compute" / "images" / image.id
        assert cached.read_bytes() == data
    finally:
        admin.image.delete_image(image.id, ignore_missing=True)
