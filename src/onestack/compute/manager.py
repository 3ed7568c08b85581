"""The compute service: its managers, and the public interface other services use
(``interface.ComputeService``), as ``cloud.neighbours.compute``.

One :class:`ComputeCore` (database, policy, settings, quotas, neighbours,
typed bus clients) is given to every sub-manager; the routes call the
sub-managers, other services call only this façade's interface methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.compute.admin_actions import AdminActions
from onestack.compute.aggregates import AggregateManager
from onestack.compute.attachments import VolumeAttachmentManager
from onestack.compute.conf import ComputeSettings
from onestack.compute.consoles import ConsoleManager
from onestack.compute.core import ComputeCore
from onestack.compute.diagnostics import DiagnosticsManager
from onestack.compute.external_events import ExternalEventManager
from onestack.compute.flavors import FlavorManager
from onestack.compute.hosts import HostManager, LegacyHosts
from onestack.compute.interfaces import InterfaceManager
from onestack.compute.keypairs import KeypairManager
from onestack.compute.listing import ServerLister
from onestack.compute.migration_records import MigrationManager
from onestack.compute.netinfo import InstanceMetadataProvider
from onestack.compute.proxies import ImageProxy, NetworkProxy
from onestack.compute.quotas import QuotaManager
from onestack.compute.rpcapi import ComputeRPC
from onestack.compute.server_actions import ServerActions
from onestack.compute.server_groups import ServerGroupManager
from onestack.compute.servers import ServerManager
from onestack.compute.volume_proxy import VolumeProxy
from onestack.neighbours import Neighbours
from onestack.network.interface import InstanceMetadata

if TYPE_CHECKING:
    from onestack.compute.service import ComputeRuntime


class ComputeManager:
    def __init__(
        self,
        db: Database,
        enforcer: Enforcer,
        settings: ComputeSettings,
        neighbours: Neighbours,
        rpc: ComputeRPC,
    ) -> None:
        self.core = ComputeCore(db, enforcer, settings, neighbours, rpc)
        self.flavors = FlavorManager(self.core)
        self.keypairs = KeypairManager(self.core)
        self.groups = ServerGroupManager(self.core)
        self.quotas = QuotaManager(self.core)
        self.hosts = HostManager(self.core)
        self.legacy_hosts = LegacyHosts(self.hosts)
        self.aggregates = AggregateManager(self.core)
        self.lister = ServerLister(self.core)
        self.attachments = VolumeAttachmentManager(self.core)
        self.servers = ServerManager(self.core, self.keypairs, self.attachments)
        self.actions = ServerActions(self.core, self.servers, self.keypairs, self.attachments)
        self.interfaces = InterfaceManager(self.core, self.servers)
        self.consoles = ConsoleManager(self.core)
        self.diagnostics = DiagnosticsManager(self.core)
        self.external_events = ExternalEventManager(self.core)
        self.migration_records = MigrationManager(self.core)
        self.admin_actions = AdminActions(self.core)
        #: Nova's proxies to the image and network services (up to microversion 2.35)
        self.image_proxy = ImageProxy(self.core)
        self.network_proxy = NetworkProxy(self.core)
        #: Nova's proxy to the volume service (os-volumes, os-snapshots; up to 2.35)
        self.volume_proxy = VolumeProxy(self.core)
        self._metadata = InstanceMetadataProvider(db)
        #: the scheduler, conductor and this host's agent while the server runs
        self.runtime: ComputeRuntime | None = None

    # -- the public interface (interface.ComputeService) -----------------------

    def instance_metadata(self, instance_id: str) -> InstanceMetadata | None:
        return self._metadata.instance_metadata(instance_id)
