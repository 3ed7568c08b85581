"""Objects as a caller sees them: access checked, versioned, expired ones hidden.

A write checks the caller's access to the container, then goes through the
plain write path (``upload.ObjectWriter``); in a versioned container the
current version is archived once the new data is verified and before it
replaces the old (``versioning``).  A delete in a versioned container
restores or archives as the container's mode says.
"""

from __future__ import annotations

from collections.abc import Iterable

from onestack.common.exceptions import BadRequest, Conflict
from onestack.object.acl import Caller
from onestack.object.core import ObjectCore, check_metadata, check_names, is_expired
from onestack.object.exceptions import ObjectNotFound
from onestack.object.models import Container
from onestack.object.store import StoredObject
from onestack.object.timestamps import new_timestamp
from onestack.object.upload import BeforeCommit, ObjectWriter, Upload, UploadSpec
from onestack.object.versioning import Versioning


class ObjectOperations:
    def __init__(self, core: ObjectCore, writer: ObjectWriter, versions: Versioning) -> None:
        self.core = core
        self.writer = writer
        self.versions = versions

    def _archive_step(
        self, account: str, row: Container, obj: str, spec: UploadSpec
    ) -> BeforeCommit | None:
        if not (spec.versioning and row.versions_location):
            return None
        return lambda: self.versions.archive_current(account, row, obj)

    def _check_newer(self, account: str, container: str, obj: str, timestamp: str) -> None:
        """409 when the object is already at ``timestamp`` or newer (a container sync
        request carries its version's own timestamp)."""
        current = self.core.store.head(account, container, obj)
        if current is not None and current.last_changed >= timestamp:
            raise Conflict(f"The object is already at {current.last_changed}.")

    def head_object(
        self, caller: Caller, account: str, container: str, obj: str
    ) -> tuple[Container, StoredObject]:
        core = self.core
        row = core.container_access(caller, account, container, write=False)
        stored = core.store.head(account, container, obj)
        if stored is None or is_expired(stored):
            raise ObjectNotFound(name=obj)
        return row, stored

    def begin_upload(
        self, caller: Caller, account: str, container: str, obj: str, spec: UploadSpec
    ) -> Upload:
        """An upload for ``caller`` (access checked) that the caller streams and finishes."""
        check_names(obj=obj)
        if not obj:
            raise BadRequest("An object name is required.")
        row = self.core.container_access(caller, account, container, write=True)
        if spec.timestamp is not None:
            self._check_newer(account, container, obj, spec.timestamp)
        return self.writer.begin(
            account, row, obj, spec, self._archive_step(account, row, obj, spec)
        )

    def write_object(
        self,
        caller: Caller,
        account: str,
        container: str,
        obj: str,
        spec: UploadSpec,
        chunks: Iterable[bytes],
    ) -> StoredObject:
        """Write a whole object from chunks at hand, for ``caller`` (access checked);
        a failure leaves nothing behind."""
        return self.begin_upload(caller, account, container, obj, spec).write_all(chunks)

    def write_internal(
        self, account: str, row: Container, obj: str, spec: UploadSpec, chunks: Iterable[bytes]
    ) -> StoredObject:
        """Write an object from chunks without an access check (S3 upload records)."""
        step = self._archive_step(account, row, obj, spec)
        return self.writer.write(account, row, obj, spec, chunks, step)

    def post_object(
        self,
        caller: Caller,
        account: str,
        container: str,
        obj: str,
        headers: dict[str, str],
        content_type: str | None,
    ) -> StoredObject:
        core = self.core
        core.container_access(caller, account, container, write=True)
        if core.stored(account, container, obj) is None:
            raise ObjectNotFound(name=obj)
        check_metadata(
            {k: v for k, v in headers.items() if k.startswith("x-object-meta-")}, "x-object-meta-"
        )
        core.store.post(account, container, obj, new_timestamp(), headers, content_type)
        updated = core.store.head(account, container, obj)
        if updated is None:
            raise ObjectNotFound(name=obj)
        core.updates.record(account, container, obj, updated, size=None)
        return updated

    def delete_object(
        self,
        caller: Caller,
        account: str,
        container: str,
        obj: str,
        *,
        versioned: bool = True,
        timestamp: str | None = None,
    ) -> None:
        """Delete (or, versioned, archive or restore); ``timestamp``: the deletion's own
        time (container sync), 409 when the object is newer."""
        core = self.core
        row = core.container_access(caller, account, container, write=True)
        if timestamp is not None:
            self._check_newer(account, container, obj, timestamp)
            versioned = False
        stored = core.store.head(account, container, obj)
        if versioned and row.versions_location and self.versions.delete(account, row, obj, stored):
            return
        if stored is None or is_expired(stored):
            if stored is not None:
                self.writer.remove(account, container, obj, timestamp)
            raise ObjectNotFound(name=obj)
        self.writer.remove(account, container, obj, timestamp)

    def remove(self, account: str, container: str, obj: str) -> None:
        """Delete without an access check (segments of an aborted S3 upload, expired objects)."""
        self.writer.remove(account, container, obj)
