"""One object write: stream the bytes to the replicas, verify, commit, record.

``Upload`` computes the MD5 while the bytes stream to every replica; on
``finish`` it checks the declared length and ``ETag`` (422 on a mismatch),
the container and account quotas, archives the current version of a
versioned container, then commits the replicas (quorum, fsync) and updates
the container listing.  Anything that fails before the commit leaves no
replica behind (``abort``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from onestack.common.exceptions import BadRequest, PreconditionFailed
from onestack.object.diskfile import new_timestamp
from onestack.object.exceptions import ObjectTooLarge, QuotaExceeded, UnprocessableEntity
from onestack.object.store import StoredObject, object_metadata

if TYPE_CHECKING:
    from onestack.object.manager import ObjectManager
    from onestack.object.models import Container


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


class Upload:
    def __init__(
        self, manager: ObjectManager, account: str, row: Container, obj: str, spec: UploadSpec
    ) -> None:
        self.manager = manager
        self.account = account
        self.row = row
        self.obj = obj
        self.spec = spec
        self.limit = manager.conf.max_file_size
        if spec.length is not None and spec.length > self.limit:
            raise ObjectTooLarge(limit=self.limit)
        if spec.check_quota:
            self._check_quota(spec.length or 0, new_object=True)
        if spec.if_none_match and manager.stored(account, row.name, obj) is not None:
            raise PreconditionFailed("The object already exists (If-None-Match: *).")
        self.stream = manager.store.begin_put(account, row.name, obj)
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.done = False

    def _check_quota(self, size: int, *, new_object: bool) -> None:
        meta = self.row.metadata_
        quota_bytes = meta.get("x-container-meta-quota-bytes")
        quota_count = meta.get("x-container-meta-quota-count")
        account_quota = account_count = None
        if quota_bytes is None and quota_count is None:
            account = self.manager.listings.account(self.account)
            account_meta = account.metadata_ if account else {}
            account_quota = account_meta.get("x-account-quota-bytes") or account_meta.get(
                "x-account-meta-quota-bytes"
            )
            account_count = account_meta.get("x-account-quota-count")
            if account_quota is None and account_count is None:
                return
        if quota_bytes is not None or quota_count is not None:
            usage = self.manager.listings.container_usage(self.row.id)
            if str(quota_bytes or "").isdigit() and usage.bytes + size > int(quota_bytes or 0):
                raise QuotaExceeded()
            if (
                str(quota_count or "").isdigit()
                and new_object
                and usage.count + 1 > int(quota_count or 0)
            ):
                raise QuotaExceeded()
        if account_quota is not None or account_count is not None:
            _, used = self.manager.listings.account_usage(self.account)
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
            if spec.versioning and self.row.versions_location:
                from onestack.object.versioning import archive_current

                archive_current(self.manager, self.account, self.row, self.obj)
            ts = new_timestamp()
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
        self.manager.record(
            self.account,
            self.row.name,
            self.obj,
            stored,
            size=spec.listing_size,
            etag=spec.listing_etag,
        )
        return stored
