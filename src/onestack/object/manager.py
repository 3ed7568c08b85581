"""The object service's façade (``ObjectManager``): its sub-managers, its
background passes and the identity look-ups of its S3 API.

Composition, one direction only::

    ObjectManager ──> ContainerManager (containers.py)   accounts and containers
                  ──> ObjectOperations (objects.py)      objects for a caller
                        ──> Versioning (versioning.py)   archive, restore
                              ──> ObjectWriter (upload.py)   plain writes and deletes
                  ──> ObjectPasses (background.py)       replicator, auditor, expirer,
                        ──> ContainerSync (sync.py)      container sync
                        └── each takes the one ObjectCore (core.py)

Every method blocks; the HTTP layers call them from worker threads.  The
object service uses one neighbour: identity, whose EC2 credentials sign S3
requests.  No other service calls the object service in process.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.periodic import TaskRunner
from onestack.identity.interface import IdentityService
from onestack.neighbours import Neighbours
from onestack.object.background import ObjectPasses
from onestack.object.conf import ObjectSettings
from onestack.object.containers import ContainerManager
from onestack.object.core import ObjectCore
from onestack.object.objects import ObjectOperations
from onestack.object.store import DeviceFactory
from onestack.object.sync import ContainerSync, load_realm
from onestack.object.upload import ObjectWriter
from onestack.object.versioning import Versioning

if TYPE_CHECKING:
    from onestack.identity.credentials import Ec2Secret

LOG = logging.getLogger(__name__)


class ObjectManager:
    def __init__(
        self,
        state_dir: Path,
        conf: ObjectSettings,
        db: Database,
        neighbours: Neighbours,
        devices: DeviceFactory,
        endpoint: str = "http://127.0.0.1:8080/v1/",
    ) -> None:
        """``endpoint``: this cloud's Swift endpoint up to ``/v1/`` (its cluster in
        the container sync realm)."""
        self.neighbours = neighbours
        self.core = ObjectCore(state_dir, conf, db, devices)
        writer = ObjectWriter(self.core)
        self.containers = ContainerManager(self.core)
        self.versions = Versioning(self.core, writer)
        self.objects = ObjectOperations(self.core, writer, self.versions)
        self.sync_realm = load_realm(conf, self.core.root, endpoint)
        self.sync = ContainerSync(self.core, self.sync_realm)
        self.passes = ObjectPasses(self.core, writer, self.sync)
        self.runner = TaskRunner("object", self.passes.tasks())

    def prepare(self) -> None:
        """Create the ring on the first start."""
        self.core.prepare()
        if self.core.conf.storage_backend == "memory":
            LOG.warning("object: replicas are kept in memory and are lost at shutdown")

    async def start(self) -> None:
        """Start the background passes (call on the event loop)."""
        self.runner.start()

    async def stop(self) -> None:
        await self.runner.stop()

    # -- what S3 needs of identity ------------------------------------------------

    @property
    def identity(self) -> IdentityService:
        """The identity service; NeighbourMissing (503) when it does not run."""
        return self.neighbours.require(self.neighbours.identity, "identity")

    def ec2_credential(self, access: str) -> Ec2Secret | None:
        """The EC2 credential with this access key (it signs S3 requests), or None."""
        return self.identity.lookup_ec2(access)

    def acting_as(self, user_id: str, project_id: str, request_id: str) -> RequestContext:
        """The context of an EC2 credential's user in its project (Unauthorized if
        either is gone or disabled)."""
        return self.identity.context_for(user_id, project_id, request_id)
