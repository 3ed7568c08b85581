"""The object service's logic and public Python interface.

``ObjectManager`` checks access (``acl``), keeps the listings (``listings``)
in step with the bytes (``store``), and runs the background passes: the
replicator, the auditor, the expirer and the retry of container updates
that could not be applied at write time (``async_pending``).  Every method
blocks; the HTTP layers call it from worker threads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from onestack.common.db import Database
from onestack.common.exceptions import BadRequest, MethodNotAllowed, PreconditionFailed
from onestack.object import acl
from onestack.object.acl import Caller
from onestack.object.auditor import AuditStats, audit_once
from onestack.object.conf import ObjectSettings
from onestack.object.diskfile import new_timestamp
from onestack.object.exceptions import ContainerNotEmpty, ContainerNotFound, ObjectNotFound
from onestack.object.listings import ContainerEntry, Listings, Subdir, Usage
from onestack.object.models import Account, Container, ObjectRow
from onestack.object.replicator import ReplicationStats, replicate_once
from onestack.object.ring import ensure_ring
from onestack.object.store import ObjectStore, StoredObject
from onestack.object.upload import Upload, UploadSpec

LOG = logging.getLogger(__name__)

MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024
MAX_META_NAME = 128
MAX_META_VALUE = 256
MAX_META_COUNT = 90
MAX_META_SIZE = 4096
LISTING_LIMIT = 10000


@dataclass(frozen=True)
class AccountInfo:
    name: str
    metadata: dict[str, Any]
    containers: int
    usage: Usage
    put_timestamp: str | None


def check_metadata(meta: dict[str, str | None], prefix: str) -> None:
    count = 0
    size = 0
    for key, value in meta.items():
        name = key[len(prefix) :]
        if not name:
            raise BadRequest("Metadata name cannot be empty.")
        if len(name) > MAX_META_NAME:
            raise BadRequest(f"Metadata name too long: {name[:40]}...; max {MAX_META_NAME}.")
        if value is not None and len(value) > MAX_META_VALUE:
            raise BadRequest(f"Metadata value longer than {MAX_META_VALUE}: {name}.")
        if value:
            count += 1
            size += len(name) + len(value)
    if count > MAX_META_COUNT:
        raise BadRequest(f"Too many metadata items; max {MAX_META_COUNT}.")
    if size > MAX_META_SIZE:
        raise BadRequest(f"Total metadata too large; max {MAX_META_SIZE}.")


def check_names(container: str | None = None, obj: str | None = None) -> None:
    if container is not None and (len(container) > MAX_CONTAINER_NAME or "/" in container):
        raise BadRequest(f"Container name length of {len(container)} longer than 256.")
    if obj is not None and len(obj.encode()) > MAX_OBJECT_NAME:
        raise BadRequest(f"Object name length of {len(obj.encode())} longer than 1024.")


class ObjectManager:
    def __init__(self, state_dir: Path, conf: ObjectSettings, db: Database) -> None:
        self.root = state_dir / "object"
        self.conf = conf
        self.store = ObjectStore(self.root)
        self.listings = Listings(db)
        self.pending_dir = self.root / "async_pending"

    def prepare(self) -> None:
        ensure_ring(self.root, self.conf.part_power, self.conf.replicas, self.conf.devices)
        self.pending_dir.mkdir(parents=True, exist_ok=True)

    # -- access -------------------------------------------------------------------

    def require_owner(self, caller: Caller, account: str, *, write: bool) -> None:
        level = caller.owner_level(account)
        if level == "write" or (level == "read" and not write):
            return
        raise caller.denied()

    def container_access(
        self, caller: Caller, account: str, container: str, *, write: bool, listing: bool = False
    ) -> Container:
        """The container row, when ``caller`` may read (or write) in it."""
        level = caller.owner_level(account)
        row = self.listings.container(account, container)
        if level == "write" or (level == "read" and not write) or caller.tempurl:
            if row is None:
                raise ContainerNotFound(container=container)
            return row
        if row is not None:
            if write and acl.write_allowed(row.write_acl, caller):
                return row
            if not write and acl.read_allowed(row.read_acl, caller, listing=listing):
                return row
        raise caller.denied()

    # -- accounts -----------------------------------------------------------------

    def account_info(self, caller: Caller, account: str) -> AccountInfo:
        self.require_owner(caller, account, write=False)
        return self.account_info_unchecked(account)

    def account_info_unchecked(self, account: str) -> AccountInfo:
        row: Account | None = self.listings.account(account)
        containers, usage = self.listings.account_usage(account)
        return AccountInfo(
            account,
            dict(row.metadata_) if row else {},
            containers,
            usage,
            row.put_timestamp if row else None,
        )

    def list_containers(
        self, caller: Caller, account: str, options: dict[str, Any]
    ) -> tuple[AccountInfo, list[ContainerEntry | Subdir]]:
        info = self.account_info(caller, account)
        return info, self.listings.list_containers(account, **options)

    def post_account(self, caller: Caller, account: str, meta: dict[str, str | None]) -> None:
        self.require_owner(caller, account, write=True)
        quotas = ("x-account-meta-quota-", "x-account-quota-")
        if any(k.startswith(quotas) for k in meta) and not caller.is_reseller():
            raise caller.denied()
        check_metadata(
            {k: v for k, v in meta.items() if k.startswith("x-account-meta-")}, "x-account-meta-"
        )
        project = acl.project_of(account)
        assert project is not None
        self.listings.update_account(account, project, new_timestamp(), meta)

    # -- containers ---------------------------------------------------------------

    def put_container(
        self, caller: Caller, account: str, container: str, fields: dict[str, Any]
    ) -> bool:
        self.require_owner(caller, account, write=True)
        check_names(container=container)
        if not container:
            raise BadRequest("A container name is required.")
        check_metadata(fields.get("metadata", {}), "x-container-meta-")
        project = acl.project_of(account)
        if project is None:
            raise BadRequest(f"Invalid account {account}.")
        return self.listings.put_container(account, project, container, new_timestamp(), fields)

    def post_container(
        self, caller: Caller, account: str, container: str, fields: dict[str, Any]
    ) -> None:
        self.require_owner(caller, account, write=True)
        row = self.listings.container(account, container)
        if row is None:
            raise ContainerNotFound(container=container)
        merged = {**row.metadata_}
        for key, value in fields.get("metadata", {}).items():
            merged[key] = value
        check_metadata(merged, "x-container-meta-")
        self.listings.update_container(account, container, fields)

    def container_info(
        self, caller: Caller, account: str, container: str, *, listing: bool = True
    ) -> tuple[Container, Usage]:
        row = self.container_access(caller, account, container, write=False, listing=listing)
        return row, self.listings.container_usage(row.id)

    def list_objects(
        self, caller: Caller, account: str, container: str, options: dict[str, Any]
    ) -> tuple[Container, Usage, list[ObjectRow | Subdir]]:
        row, usage = self.container_info(caller, account, container)
        return row, usage, self.listings.list_objects(row.id, **options)

    def delete_container(self, caller: Caller, account: str, container: str) -> None:
        self.require_owner(caller, account, write=True)
        result = self.listings.delete_container(account, container)
        if result == "missing":
            raise ContainerNotFound(container=container)
        if result == "not_empty":
            raise ContainerNotEmpty()

    # -- objects ------------------------------------------------------------------

    def head_object(
        self, caller: Caller, account: str, container: str, obj: str
    ) -> tuple[Container, StoredObject]:
        row = self.container_access(caller, account, container, write=False)
        stored = self.store.head(account, container, obj)
        if stored is None or is_expired(stored):
            raise ObjectNotFound(name=obj)
        return row, stored

    def stored(self, account: str, container: str, obj: str) -> StoredObject | None:
        stored = self.store.head(account, container, obj)
        return None if stored is None or is_expired(stored) else stored

    def begin_upload(
        self, caller: Caller, account: str, container: str, obj: str, spec: UploadSpec
    ) -> Upload:
        check_names(obj=obj)
        if not obj:
            raise BadRequest("An object name is required.")
        row = self.container_access(caller, account, container, write=True)
        return Upload(self, account, row, obj, spec)

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
        """Write an object from chunks (copies, versions, archives, S3 parts)."""
        return Upload(self, account, row, obj, spec).write_all(chunks)

    def post_object(
        self,
        caller: Caller,
        account: str,
        container: str,
        obj: str,
        headers: dict[str, str],
        content_type: str | None,
    ) -> StoredObject:
        self.container_access(caller, account, container, write=True)
        stored = self.stored(account, container, obj)
        if stored is None:
            raise ObjectNotFound(name=obj)
        check_metadata(
            {k: v for k, v in headers.items() if k.startswith("x-object-meta-")}, "x-object-meta-"
        )
        ts = new_timestamp()
        self.store.post(account, container, obj, ts, headers, content_type)
        updated = self.store.head(account, container, obj)
        assert updated is not None
        self.record(account, container, obj, updated, size=None)
        return updated

    def delete_object(
        self, caller: Caller, account: str, container: str, obj: str, *, versioned: bool = True
    ) -> None:
        row = self.container_access(caller, account, container, write=True)
        stored = self.store.head(account, container, obj)
        if versioned and row.versions_location:
            from onestack.object.versioning import delete_versioned

            if delete_versioned(self, account, row, obj, stored):
                return
        if stored is None or is_expired(stored):
            if stored is not None:
                self.remove(account, container, obj)
            raise ObjectNotFound(name=obj)
        self.remove(account, container, obj)

    def remove(self, account: str, container: str, obj: str) -> None:
        ts = new_timestamp()
        self.store.delete(account, container, obj, ts)
        self.apply_update(
            {
                "account": account,
                "container": container,
                "name": obj,
                "timestamp": ts,
                "deleted": True,
            }
        )

    # -- container updates ---------------------------------------------------------

    def record(
        self,
        account: str,
        container: str,
        obj: str,
        stored: StoredObject,
        *,
        size: int | None,
        etag: str | None = None,
    ) -> None:
        delete_at = stored.headers.get("x-delete-at")
        slo_size = stored.headers.get("x-object-sysmeta-slo-size")
        self.apply_update(
            {
                "account": account,
                "container": container,
                "name": obj,
                "timestamp": stored.last_changed,
                "last_modified": stored.last_changed,
                "size": size if size is not None else int(slo_size) if slo_size else stored.length,
                "etag": etag or stored.headers.get("x-object-sysmeta-slo-etag") or stored.etag,
                "content_type": stored.content_type,
                "delete_at": int(delete_at) if delete_at and delete_at.isdigit() else None,
                "s3_etag": stored.headers.get("x-object-sysmeta-s3-etag"),
            }
        )

    def apply_update(self, update: dict[str, Any]) -> None:
        """Apply a container update now, or keep it for the updater pass."""
        try:
            self.listings.record_object(update)
        except SQLAlchemyError as exc:
            LOG.warning("container update for %s deferred: %s", update["name"], exc)
            self.pending_dir.mkdir(parents=True, exist_ok=True)
            path = self.pending_dir / f"{update['timestamp']}-{uuid.uuid4().hex}.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(update))
            tmp.rename(path)

    def update_pending_once(self) -> int:
        """Retry deferred container updates; returns how many were applied."""
        done = 0
        for path in sorted(self.pending_dir.glob("*.json")):
            try:
                update = json.loads(path.read_text())
                self.listings.record_object(update)
            except (OSError, ValueError, SQLAlchemyError) as exc:
                LOG.warning("deferred container update %s failed again: %s", path.name, exc)
                continue
            path.unlink(missing_ok=True)
            done += 1
        return done

    # -- background passes -------------------------------------------------------

    def expire_once(self, now: float | None = None) -> int:
        """Delete objects whose X-Delete-At has passed; returns how many."""
        now = time.time() if now is None else now
        removed = 0
        for account, container, obj, delete_at in self.listings.expired(now):
            stored = self.store.head(account, container, obj)
            if stored is not None and stored.headers.get("x-delete-at") not in (
                None,
                str(delete_at),
            ):
                self.record(account, container, obj, stored, size=None)
                continue
            with contextlib.suppress(Exception):
                self.remove(account, container, obj)
                removed += 1
        return removed

    def replicate_once(self) -> ReplicationStats:
        return replicate_once(self.root)

    def audit_once(self) -> AuditStats:
        return audit_once(self.root)


def is_expired(stored: StoredObject, now: float | None = None) -> bool:
    value = stored.headers.get("x-delete-at")
    if not value or not value.isdigit():
        return False
    return int(value) <= (time.time() if now is None else now)


def listing_options(query: dict[str, str]) -> dict[str, Any]:
    """Validated listing options from a request's query."""
    limit_raw = query.get("limit")
    limit = LISTING_LIMIT
    if limit_raw is not None:
        if not limit_raw.isdigit():
            raise PreconditionFailed("Value of limit must be a positive integer.")
        limit = int(limit_raw)
        if limit > LISTING_LIMIT:
            raise PreconditionFailed(f"Maximum limit is {LISTING_LIMIT}.")
    delimiter = query.get("delimiter", "")
    if len(delimiter) > 1:
        raise PreconditionFailed("Bad delimiter.")
    return {
        "prefix": query.get("prefix", ""),
        "delimiter": delimiter,
        "marker": query.get("marker", ""),
        "end_marker": query.get("end_marker", ""),
        "limit": limit,
        "reverse": query.get("reverse", "").lower() in ("1", "true", "yes", "on"),
    }


def not_allowed(what: str) -> MethodNotAllowed:
    return MethodNotAllowed(f"The method is not allowed for {what}.")


def chunked(data: bytes, size: int = 1 << 20) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
