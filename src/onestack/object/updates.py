"""Container updates: the listings kept in step with the replicas.

Every write, metadata change and delete of an object ends by recording it in
the container listing.  When the database refuses (it is down, locked, or
the row is contended), the update is kept as a file under ``async_pending/``
and applied by the updater pass (``retry_pending``), as Swift's object
updater does; an older update never overwrites a newer row.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from onestack.object import symlinks
from onestack.object.listings import Listings
from onestack.object.store import StoredObject

LOG = logging.getLogger(__name__)


class ContainerUpdates:
    def __init__(self, listings: Listings, pending_dir: Path) -> None:
        self.listings = listings
        self.pending_dir = pending_dir

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
        """The object now is ``stored`` (listing ``size``/``etag`` when given)."""
        delete_at = stored.headers.get("x-delete-at")
        slo_size = stored.headers.get("x-object-sysmeta-slo-size")
        target = symlinks.target_of(account, stored)
        self.apply(
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
                "symlink_path": symlinks.path_of(target) if target else None,
                "symlink_etag": stored.headers.get(symlinks.TARGET_ETAG),
                "symlink_bytes": stored.headers.get(symlinks.TARGET_BYTES),
            }
        )

    def deleted(self, account: str, container: str, obj: str, timestamp: str) -> None:
        """The object was deleted at ``timestamp``."""
        self.apply(
            {
                "account": account,
                "container": container,
                "name": obj,
                "timestamp": timestamp,
                "deleted": True,
            }
        )

    def apply(self, update: dict[str, Any]) -> None:
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

    def retry_pending(self) -> int:
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
