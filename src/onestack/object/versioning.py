"""Object versioning: ``X-Versions-Location`` (stack) and ``X-History-Location``.

On every overwrite the current version is copied into the archive container
as ``<len(name) as 3 hex digits><name>/<timestamp>``.  In stack mode a DELETE
restores the newest archived version (and removes it from the archive); in
history mode a DELETE archives the current version, adds a delete marker
(content type ``application/x-deleted;swift_versions_deleted=1``) and
deletes the object.  Manifests are archived as manifests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestack.common.exceptions import PreconditionFailed
from onestack.object.diskfile import new_timestamp
from onestack.object.models import Container, ObjectRow
from onestack.object.store import StoredObject, read_range
from onestack.object.upload import UploadSpec

if TYPE_CHECKING:
    from onestack.object.manager import ObjectManager

DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"


def version_prefix(obj: str) -> str:
    return f"{len(obj.encode()):03x}{obj}/"


def _archive(manager: ObjectManager, account: str, row: Container) -> Container:
    assert row.versions_location is not None
    archive = manager.listings.container(account, row.versions_location)
    if archive is None:
        raise PreconditionFailed(f"The versions container {row.versions_location} does not exist.")
    return archive


def _copy_raw(
    manager: ObjectManager,
    account: str,
    src_container: str,
    src: str,
    dst_row: Container,
    dst: str,
) -> StoredObject | None:
    opened = manager.store.open(account, src_container, src)
    if opened is None:
        return None
    stored, handle = opened
    with handle:
        headers = stored.headers
        slo_size = headers.get("x-object-sysmeta-slo-size")
        spec = UploadSpec(
            content_type=stored.content_type,
            headers=dict(headers),
            versioning=False,
            check_quota=False,
            listing_size=int(slo_size) if slo_size else None,
            listing_etag=headers.get("x-object-sysmeta-slo-etag"),
        )
        return manager.write_internal(
            account, dst_row, dst, spec, read_range(handle, 0, stored.length)
        )


def archive_current(manager: ObjectManager, account: str, row: Container, obj: str) -> None:
    current = manager.stored(account, row.name, obj)
    if current is None:
        return
    archive = _archive(manager, account, row)
    name = version_prefix(obj) + current.timestamp
    _copy_raw(manager, account, row.name, obj, archive, name)


def delete_versioned(
    manager: ObjectManager, account: str, row: Container, obj: str, current: StoredObject | None
) -> bool:
    """Handle a DELETE in a versioned container; False: delete as usual."""
    archive = _archive(manager, account, row)
    if row.versions_mode == "history":
        if current is None:
            return False
        archive_current(manager, account, row, obj)
        marker = UploadSpec(content_type=DELETE_MARKER, versioning=False, check_quota=False)
        manager.write_internal(
            account, archive, version_prefix(obj) + new_timestamp(), marker, [b""]
        )
        manager.remove(account, row.name, obj)
        return True
    versions = manager.listings.list_objects(
        archive.id, prefix=version_prefix(obj), reverse=True, limit=10
    )
    for entry in versions:
        if not isinstance(entry, ObjectRow):
            continue
        if entry.content_type == DELETE_MARKER:
            manager.remove(account, archive.name, entry.name)
            continue
        restored = _copy_raw(manager, account, archive.name, entry.name, row, obj)
        manager.remove(account, archive.name, entry.name)
        if restored is not None:
            return True
    return False
