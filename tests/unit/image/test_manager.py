"""The image manager alone: built on a database with the image tables only,
reached by other services through a ``Neighbours`` that holds nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.exceptions import Conflict
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.image import policies
from onestack.image.conf import ImageSettings
from onestack.image.exceptions import ImageNotFound, ImageProtected, LimitExceeded
from onestack.image.interface import ImageService
from onestack.image.manager import ImageManager
from onestack.image.patch import Change
from onestack.image.store import FilesystemStore
from onestack.neighbours import NeighbourMissing, Neighbours

OWNER = RequestContext(
    request_id="req-owner", user_id="u1", project_id="p-owner", roles=("member", "reader")
)
OTHER = RequestContext(
    request_id="req-other", user_id="u2", project_id="p-other", roles=("member", "reader")
)


@pytest.fixture()
def manager(tmp_path: Path) -> Iterator[ImageManager]:
    db = Database(f"sqlite:///{tmp_path / 'image.db'}")
    upgrade(db, ["onestack.image"])
    enforcer = Enforcer(policies.RULES)
    try:
        yield ImageManager(ImageSettings(image_tag_quota=2), db, enforcer, tmp_path / "state")
    finally:
        db.dispose()


def test_the_database_holds_only_the_image_service_and_the_framework(
    manager: ImageManager,
) -> None:
    with manager.core.db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    framework = ("quota_", "alembic_", "injected_faults")
    others = {t for t in tables if not t.startswith(("image_", *framework))}
    assert others == set()
    assert {"image_images", "image_members", "image_tags"} <= tables


def test_a_neighbour_reaches_the_image_service_through_its_protocol(
    manager: ImageManager, tmp_path: Path
) -> None:
    neighbours = Neighbours.of({"image": manager})
    image: ImageService = neighbours.require(neighbours.image, "image")
    source = tmp_path / "disk.raw"
    source.write_bytes(b"\x01" * 1000 + bytes(70000))
    record = image.create_from_file(
        OWNER, "disk", source, disk_format="raw", container_format="bare", properties={"a": "b"}
    )
    assert record.status == "active" and record.size == 71000
    assert record.properties["a"] == "b"
    assert image.get_image(OWNER, record.id) == record
    assert image.data_path(OWNER, record.id).read_bytes() == source.read_bytes()
    assert source.exists(), "the caller keeps its file"
    with pytest.raises(ImageNotFound):
        image.get_image(OTHER, record.id)  # private: another project does not see it
    with pytest.raises(NeighbourMissing) as missing:
        neighbours.require(neighbours.volume, "volume")
    assert missing.value.code == 503


def test_data_path_of_an_image_without_data_is_a_conflict(manager: ImageManager) -> None:
    image = manager.images.create(OWNER, {"name": "empty"})
    with pytest.raises(Conflict) as info:
        manager.data_path(OWNER, image.id)
    assert "queued" in info.value.message


def test_sub_managers_share_one_core(manager: ImageManager) -> None:
    image = manager.images.create(OWNER, {"name": "shared-one", "visibility": "shared"})
    manager.members.add(OWNER, image.id, "p-other")
    assert manager.get_image(OTHER, image.id).id == image.id  # any membership status
    listed = manager.lister.list(OTHER, [("member_status", "pending")]).images
    assert [i.id for i in listed] == [image.id]
    manager.members.add_tag(OWNER, image.id, "one")
    manager.members.add_tag(OWNER, image.id, "two")
    with pytest.raises(LimitExceeded):
        manager.members.add_tag(OWNER, image.id, "three")
    updated = manager.images.update(
        OWNER, image.id, [Change("replace", "protected", True), Change("add", "k", "v")]
    )
    assert updated.protected and {p.name: p.value for p in updated.properties} == {"k": "v"}
    with pytest.raises(ImageProtected):
        manager.images.delete(OWNER, image.id)


def test_a_failed_patch_changes_nothing(manager: ImageManager) -> None:
    image = manager.images.create(OWNER, {"name": "before"})
    with pytest.raises(LimitExceeded):
        manager.images.update(
            OWNER,
            image.id,
            [Change("replace", "name", "after"), Change("replace", "tags", ["a", "b", "c"])],
        )
    assert manager.images.show(OWNER, image.id).name == "before"


def test_reconcile_puts_interrupted_uploads_back(manager: ImageManager) -> None:
    image = manager.images.create(OWNER, {"disk_format": "raw", "container_format": "bare"})
    transfer = manager.data.begin(OWNER, image.id, 10)
    transfer.sink.write(b"half")
    assert manager.images.show(OWNER, image.id).status == "saving"
    assert manager.reconcile() == 1
    assert manager.images.show(OWNER, image.id).status == "queued"
    store = manager.core.stores.get(None)
    assert isinstance(store, FilesystemStore)
    assert list(store.incoming.iterdir()) == []
