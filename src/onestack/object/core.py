"""What every part of the object service shares: settings, the replicated store,
the listings, container updates, access checks and Swift's limits.

Access: the account's owner (a token of its project with a member or admin
role) reads and writes everything in it; anyone else needs a container ACL
(``acl``) or a temp URL.  A container the caller may not see is reported as
not found only to those who may see the account; everyone else is refused.
The sub-managers (``containers``, ``upload``, ``versioning``, ``objects``,
``background``) each take one :class:`ObjectCore`.
"""

from __future__ import annotations

import time
from pathlib import Path

from onestack.common.db import Database
from onestack.common.exceptions import BadRequest
from onestack.object import acl
from onestack.object.acl import Caller
from onestack.object.conf import ObjectSettings
from onestack.object.exceptions import ContainerNotFound
from onestack.object.listings import Listings
from onestack.object.models import Container
from onestack.object.ring import ensure_ring
from onestack.object.store import DeviceFactory, ObjectStore, StoredObject
from onestack.object.updates import ContainerUpdates

MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024
MAX_META_NAME = 128
MAX_META_VALUE = 256
MAX_META_COUNT = 90
MAX_META_SIZE = 4096
LISTING_LIMIT = 10000


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


def is_expired(stored: StoredObject, now: float | None = None) -> bool:
    value = stored.headers.get("x-delete-at")
    if not value or not value.isdigit():
        return False
    return int(value) <= (time.time() if now is None else now)


class ObjectCore:
    def __init__(
        self,
        state_dir: Path,
        conf: ObjectSettings,
        db: Database,
        devices: DeviceFactory,
    ) -> None:
        self.root = state_dir / "object"
        self.conf = conf
        self.store = ObjectStore(self.root, devices)
        self.listings = Listings(db)
        self.updates = ContainerUpdates(self.listings, self.root / "async_pending")

    def prepare(self) -> None:
        """Create the ring on the first start."""
        conf = self.conf
        on_disk = conf.storage_backend == "disk"
        ensure_ring(self.root, conf.part_power, conf.replicas, conf.devices, directories=on_disk)
        self.updates.pending_dir.mkdir(parents=True, exist_ok=True)

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
        if (
            level == "write"
            or (level == "read" and not write)
            or caller.tempurl
            or caller.container_sync
        ):
            if row is None:
                raise ContainerNotFound(container=container)
            return row
        if row is not None:
            if write and acl.write_allowed(row.write_acl, caller):
                return row
            if not write and acl.read_allowed(row.read_acl, caller, listing=listing):
                return row
        raise caller.denied()

    # -- objects ------------------------------------------------------------------

    def stored(self, account: str, container: str, obj: str) -> StoredObject | None:
        """The object's newest version, unless it is deleted or expired."""
        stored = self.store.head(account, container, obj)
        return None if stored is None or is_expired(stored) else stored
