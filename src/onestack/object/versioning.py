"""Object versioning: ``X-Versions-Location`` (stack) and ``X-History-Location``.

On every overwrite the current version is copied into the archive container
as ``<len(name) as 3 hex digits><name>/<timestamp>``.  In stack mode a DELETE
restores the newest archived version (and removes it from the archive); in
history mode a DELETE archives the current version, adds a delete marker
(content type ``application/x-deleted;swift_versions_deleted=1``) and
deletes the object.  Manifests are archived as manifests.  Archives and
restores are plain writes (``upload.ObjectWriter``), never versioned again.
"""

from __future__ import annotations

from onestack.common.exceptions import PreconditionFailed
from onestack.object.core import ObjectCore
from onestack.object.models import Container, ObjectRow
from onestack.object.store import StoredObject, read_range
from onestack.object.timestamps import new_timestamp
from onestack.object.upload import ObjectWriter, UploadSpec

DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"


def version_prefix(obj: str) -> str:
    return f"{len(obj.encode()):03x}{obj}/"


class Versioning:
    def __init__(self, core: ObjectCore, writer: ObjectWriter) -> None:
        self.core = core
        self.writer = writer

    def _archive(self, account: str, row: Container) -> Container:
        assert row.versions_location is not None
        archive = self.core.listings.container(account, row.versions_location)
        if archive is None:
            raise PreconditionFailed(
                f"The versions container {row.versions_location} does not exist."
            )
        return archive

    def _copy_raw(
        self, account: str, src_container: str, src: str, dst_row: Container, dst: str
    ) -> StoredObject | None:
        opened = self.core.store.open(account, src_container, src)
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
            return self.writer.write(
                account, dst_row, dst, spec, read_range(handle, 0, stored.length)
            )

    def archive_current(self, account: str, row: Container, obj: str) -> None:
        """Copy the current version (if any) into the archive container."""
        current = self.core.stored(account, row.name, obj)
        if current is None:
            return
        archive = self._archive(account, row)
        name = version_prefix(obj) + current.timestamp
        self._copy_raw(account, row.name, obj, archive, name)

    def delete(self, account: str, row: Container, obj: str, current: StoredObject | None) -> bool:
        """Handle a DELETE in a versioned container; False: delete as usual."""
        archive = self._archive(account, row)
        if row.versions_mode == "history":
            if current is None:
                return False
            self.archive_current(account, row, obj)
            marker = UploadSpec(content_type=DELETE_MARKER, versioning=False, check_quota=False)
            self.writer.write(
                account, archive, version_prefix(obj) + new_timestamp(), marker, [b""]
            )
            self.writer.remove(account, row.name, obj)
            return True
        versions = self.core.listings.list_objects(
            archive.id, prefix=version_prefix(obj), reverse=True, limit=10
        )
        for entry in versions:
            if not isinstance(entry, ObjectRow):
                continue
            if entry.content_type == DELETE_MARKER:
                self.writer.remove(account, archive.name, entry.name)
                continue
            restored = self._copy_raw(account, archive.name, entry.name, row, obj)
            self.writer.remove(account, archive.name, entry.name)
            if restored is not None:
                return True
        return False
