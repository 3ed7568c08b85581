"""The object service's background passes, as periodic tasks.

- ``replicator``: every partition back to its full replica count (``replicator``);
- ``auditor``: quarantine replicas whose bytes no longer match (``auditor``);
- ``expirer``: retry deferred container updates, then delete the objects
  whose ``X-Delete-At`` has passed;
- ``container-sync``: send what changed in synced containers to their
  targets (``sync``).

Each runs in a worker thread on its interval from ``ObjectSettings`` (0: never)
under the service's ``TaskRunner``; a failing pass is logged with its
traceback and runs again at its next interval.
"""

from __future__ import annotations

import logging
import time

from onestack.common.exceptions import ServiceUnavailable
from onestack.common.periodic import PeriodicTask
from onestack.object.auditor import AuditStats, audit_once
from onestack.object.core import ObjectCore
from onestack.object.replicator import ReplicationStats, replicate_once
from onestack.object.sync import ContainerSync, SyncStats
from onestack.object.upload import ObjectWriter

LOG = logging.getLogger(__name__)


class ObjectPasses:
    def __init__(self, core: ObjectCore, writer: ObjectWriter, sync: ContainerSync) -> None:
        self.core = core
        self.writer = writer
        self.sync = sync

    def replicate_once(self) -> ReplicationStats:
        return replicate_once(self.core.store)

    def audit_once(self) -> AuditStats:
        return audit_once(self.core.store)

    def update_pending_once(self) -> int:
        """Retry deferred container updates; returns how many were applied."""
        return self.core.updates.retry_pending()

    def expire_once(self, now: float | None = None) -> int:
        """Delete objects whose X-Delete-At has passed; returns how many."""
        core = self.core
        now = time.time() if now is None else now
        removed = 0
        for account, container, obj, delete_at in core.listings.expired(now):
            stored = core.store.head(account, container, obj)
            if stored is not None and stored.headers.get("x-delete-at") not in (
                None,
                str(delete_at),
            ):
                core.updates.record(account, container, obj, stored, size=None)
                continue
            try:
                self.writer.remove(account, container, obj)
            except (ServiceUnavailable, OSError) as exc:
                # No quorum of devices now: the object stays listed and the next pass retries.
                LOG.warning("expiring %s/%s/%s failed: %s", account, container, obj, exc)
                continue
            removed += 1
        return removed

    def sync_once(self) -> SyncStats:
        return self.sync.sync_once()

    def expire_and_update(self) -> None:
        self.update_pending_once()
        self.expire_once()

    def tasks(self) -> list[PeriodicTask]:
        conf = self.core.conf
        return [
            PeriodicTask("replicator", conf.replicator_interval, self.replicate_once),
            PeriodicTask("auditor", conf.auditor_interval, self.audit_once),
            PeriodicTask("expirer", conf.expirer_interval, self.expire_and_update),
            PeriodicTask("container-sync", conf.container_sync_interval, self.sync_once),
        ]
