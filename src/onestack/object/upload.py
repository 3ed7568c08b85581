"""One object write: stream the bytes to the replicas, verify, commit, record.

``Upload`` computes the MD5 while the bytes stream to every replica; on
``finish`` it checks the declared length and ``ETag`` (422 on a mismatch)
and the container and account quotas, runs its ``before_commit`` step (the
versioned write archives the current version there), then commits the
replicas (quorum, fsync) and updates the container listing.  Anything that
fails before the commit leaves no replica behind (``abort``).

``ObjectWriter`` is the plain write path every other part uses (uploads,
copies, version archives, S3 parts, deletes); it knows nothing of
versioning, which is layered on top of it (``versioning``, ``objects``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from onestack.common.exceptions import BadRequest, PreconditionFailed
from onestack.object.core import ObjectCore
from onestack.object.exceptions import ObjectTooLarge, QuotaExceeded, UnprocessableEntity
from onestack.object.models import Container
from onestack.object.store import StoredObject, object_metadata
from onestack.object.timestamps import new_timestamp

#: a step run after the data is verified and before it replaces the current version
BeforeCommit = Callable[[], None]


@dataclass
class UploadSpec:
    content_type: str = "application/octet-stream"
    #: stored with the object: X-Object-Meta-*, Content-Encoding, X-Delete-At, sysmeta, ...
    headers: dict[str, str] = field(default_factory=dict)
    expected_etag: str | None = None
    #: the declared Content-Length (None for chunked transfer)
    length: int | None = None
    #: listing size and ETag when they are not the stored bytes' (SLO manifests)
    listing_size: int | None = None
    listing_etag: str | None = None
    if_none_match: bool = False
    versioning: bool = True
    check_quota: bool = True
    #: the version's timestamp when it is given (a container sync PUT keeps the source's)
    timestamp: str | None = None


class Upload:
    def __init__(
        self,
        core: ObjectCore,
        account: str,
        row: Container,
        obj: str,
        spec: UploadSpec,
        before_commit: BeforeCommit | None = None,
    ) -> None:
        self.core = core
        self.account = account
        self.row = row
        self.obj = obj
        self.spec = spec
        self.before_commit = before_commit
        self.limit = core.conf.max_file_size
        if spec.length is not None and spec.length > self.limit:
            raise ObjectTooLarge(limit=self.limit)
        if spec.check_quota:
            self._check_quota(spec.length or 0, new_object=True)
        if spec.if_none_match and core.stored(account, row.name, obj) is not None:
            raise PreconditionFailed("The object already exists (If-None-Match: *).")
        self.stream = core.store.begin_put(account, row.name, obj)
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.done = False

    def _check_quota(self, size: int, *, new_object: bool) -> None:
        meta = self.row.metadata_
        quota_bytes = meta.get("x-container-meta-quota-bytes")
        quota_count = meta.get("x-container-meta-quota-count")
        account_quota = account_count = None
        if quota_bytes is None and quota_count is None:
            account = self.core.listings.account(self.account)
            account_meta = account.metadata_ if account else {}
            account_quota = account_meta.get("x-account-quota-bytes") or account_meta.get(
                "x-account-meta-quota-bytes"
            )
            account_count = account_meta.get("x-account-quota-count")
            if account_quota is None and account_count is None:
                return
        if quota_bytes is not None or quota_count is not None:
            usage = self.core.listings.container_usage(self.row.id)
            if str(quota_bytes or "").isdigit() and usage.bytes + size > int(quota_bytes or 0):
                raise QuotaExceeded()
            if (
                str(quota_count or "").isdigit()
                and new_object
                and usage.count + 1 > int(quota_count or 0)
            ):
                raise QuotaExceeded()
        if account_quota is not None or account_count is not None:
            _, used = self.core.listings.account_usage(self.account)
            if str(account_quota or "").isdigit() and used.bytes + size > int(account_quota or 0):
                raise QuotaExceeded()
            if (
                str(account_count or "").isdigit()
                and new_object
                and used.count + 1 > int(account_count or 0)
            ):
                raise QuotaExceeded()

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.abort()
            raise ObjectTooLarge(limit=self.limit)
        self.md5.update(chunk)
        self.stream.write(chunk)

    def write_all(self, chunks: Iterable[bytes]) -> StoredObject:
        """Write every chunk and finish; on any failure nothing is left behind."""
        try:
            for chunk in chunks:
                self.write(chunk)
        except BaseException:
            self.abort()
            raise
        return self.finish()

    def abort(self) -> None:
        if not self.done:
            self.done = True
            self.stream.abort()

    def finish(self) -> StoredObject:
        spec = self.spec
        try:
            etag = self.md5.hexdigest()
            if spec.length is not None and self.size != spec.length:
                raise BadRequest(f"Received {self.size} bytes; Content-Length said {spec.length}.")
            if spec.expected_etag and spec.expected_etag.strip('"').lower() != etag:
                raise UnprocessableEntity()
            if spec.check_quota and spec.length is None:
                self._check_quota(self.size, new_object=True)
            if self.before_commit is not None:
                self.before_commit()
            ts = spec.timestamp or new_timestamp()
            path = f"/{self.account}/{self.row.name}/{self.obj}"
            metadata = object_metadata(
                path, ts, etag, self.size, spec.content_type, dict(spec.headers)
            )
            self.stream.commit(ts, metadata)
            self.done = True
        except BaseException:
            self.abort()
            raise
        stored = StoredObject(path, ts, etag, self.size, spec.content_type, dict(spec.headers))
        self.core.updates.record(
            self.account,
            self.row.name,
            self.obj,
            stored,
            size=spec.listing_size,
            etag=spec.listing_etag,
        )
        return stored


class ObjectWriter:
    """Writes and deletes objects as they are asked for (no versioning, no access checks)."""

    def __init__(self, core: ObjectCore) -> None:
        self.core = core

    def begin(
        self,
        account: str,
        row: Container,
        obj: str,
        spec: UploadSpec,
        before_commit: BeforeCommit | None = None,
    ) -> Upload:
        return Upload(self.core, account, row, obj, spec, before_commit)

    def write(
        self,
        account: str,
        row: Container,
        obj: str,
        spec: UploadSpec,
        chunks: Iterable[bytes],
        before_commit: BeforeCommit | None = None,
    ) -> StoredObject:
        """Write a whole object from chunks; a failure leaves nothing behind."""
        return self.begin(account, row, obj, spec, before_commit).write_all(chunks)

    def remove(self, account: str, container: str, obj: str, timestamp: str | None = None) -> None:
        """Delete the object's replicas (a tombstone at ``timestamp``, default now) and
        its listing entry."""
        ts = timestamp or new_timestamp()
        self.core.store.delete(account, container, obj, ts)
        self.core.updates.deleted(account, container, obj, ts)
