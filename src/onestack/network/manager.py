"""NetworkManager: the networking service's façade and public Python interface.

It builds the service from one :class:`~onestack.network.core.NetworkCore`
and sub-managers that each get the core and, explicitly, the few other
sub-managers they use (no cycles)::

    SubnetPools   Networks   SecurityGroups   AddressAllocator
         \\            |           |                 |
          Subnets      |         Ports  <------------+
                       |      (groups, addresses)    |
    SecurityGroupRules(groups)      Routers(addresses)   FloatingIPs(addresses)
    InstancePorts(networks, subnets, ports, groups, routers)
    Tags(collections)  NetworkQuotas  IPAvailability(networks)

The API routes call the sub-managers (``collections`` maps each URL
collection to its sub-manager); other services call the methods of
``interface.NetworkService``, which this class implements.  Every change
that the data plane shows wakes the network agent.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.network import models
from onestack.network.addresses import AddressAllocator
from onestack.network.agent import NetworkAgent
from onestack.network.agents import DHCP_NETWORKS, L2, L3_ROUTERS, Hosting, NetworkAgents
from onestack.network.collection import Collection
from onestack.network.conf import NetworkSettings
from onestack.network.core import NetworkCore
from onestack.network.driver import MetadataSource, NetworkDataPlane
from onestack.network.drivers.noop import NoDataPlane
from onestack.network.floatingips import FloatingIPs
from onestack.network.instances import InstancePorts
from onestack.network.interface import (
    Addresses,
    FloatingIPRecord,
    MetadataProvider,
    NetworkInfo,
    NetworkRequest,
    PortCounters,
    PortInfo,
    Requested,
    SecurityGroupInfo,
    SecurityGroupRecord,
    SecurityGroupRuleRecord,
    VifTap,
)
from onestack.network.metering import MeteringLabelRules, MeteringLabels
from onestack.network.networks import Networks
from onestack.network.nova_proxy import NovaNetworkProxy
from onestack.network.ports import Ports
from onestack.network.quotas import IPAvailability, NetworkQuotas
from onestack.network.routers import Routers
from onestack.network.secgroups import SecurityGroupRules, SecurityGroups
from onestack.network.subnetpools import SubnetPools
from onestack.network.subnets import Subnets
from onestack.network.tags import Tags


class NetworkManager:
    def __init__(
        self,
        settings: NetworkSettings,
        db: Database,
        enforcer: Enforcer,
        *,
        data_plane: NetworkDataPlane | None = None,
        metadata: MetadataSource | None = None,
    ) -> None:
        """``data_plane``: this host's (``drivers.select_data_plane``; default: none,
        API only); ``metadata``: where the metadata service gets instance data (the
        one the data plane was given)."""
        plane = data_plane or NoDataPlane("no data plane given")
        self.core = core = NetworkCore(settings, db, enforcer, plane, metadata or MetadataSource())
        addresses = AddressAllocator(settings)
        self.subnetpools = SubnetPools(core)
        self.networks = Networks(core)
        self.subnets = Subnets(core, self.subnetpools)
        self.security_groups = SecurityGroups(core)
        self.security_group_rules = SecurityGroupRules(core, self.security_groups)
        self.ports = Ports(core, addresses, self.security_groups)
        self.routers = Routers(core, addresses)
        self.floatingips = FloatingIPs(core, addresses)
        self.instances = InstancePorts(
            core, self.networks, self.subnets, self.ports, self.security_groups, self.routers
        )
        self.quotas = NetworkQuotas(core)
        self.metering_labels = MeteringLabels(core)
        self.metering_label_rules = MeteringLabelRules(core, self.metering_labels)
        self.ip_availability = IPAvailability(core, self.networks)
        #: the network agents of every host (GET /v2.0/agents), their liveness and bindings
        self.agent_records = NetworkAgents(core)
        #: URL collection -> its sub-manager (the CRUD routes and tags use these)
        self.collections: dict[str, Collection[Any]] = {
            "networks": self.networks,
            "subnets": self.subnets,
            "subnetpools": self.subnetpools,
            "ports": self.ports,
            "routers": self.routers,
            "floatingips": self.floatingips,
            "security-groups": self.security_groups,
            "security_groups": self.security_groups,
            "security-group-rules": self.security_group_rules,
            "metering/metering-labels": self.metering_labels,
            "metering/metering-label-rules": self.metering_label_rules,
        }
        self.tags = Tags(core, self.collections)
        #: what Nova's proxy APIs use (interface.NetworkProxyService)
        self.nova_proxy = NovaNetworkProxy(
            core, self.networks, self.security_groups, self.security_group_rules, self.floatingips
        )

    @property
    def settings(self) -> NetworkSettings:
        return self.core.settings

    # the network agent ---------------------------------------------------------------------

    async def start_agent(self, host: str | None = None) -> None:
        """Run this host's network agent in this process, if the data plane builds anything
        (``host``: its name among the agents; the settings' or the machine's by default)."""
        name = host or self.settings.host or socket.gethostname()
        if self.core.agent is not None:
            return
        if not self.core.plane.capabilities().anything:
            # listed, never alive: this host's data plane builds nothing (the API-only tier)
            configurations = {"data_plane": self.core.plane.name}
            await asyncio.to_thread(
                self.agent_records.report, name, [L2], configurations, heartbeat=False
            )
            return
        agent = NetworkAgent(self.core.db, self.core.plane, self.settings, name, self.agent_records)
        await agent.start()
        self.core.agent = agent
        self.core.add_listener(agent.wake)

    async def stop_agent(self) -> None:
        agent, self.core.agent = self.core.agent, None
        if agent is not None:
            self.core.remove_listener(agent.wake)
            await agent.stop()

    # the service's own read-outs (/v2.0/availability_zones, /v2.0/agents) ------------------

    def availability_zones(self, ctx: RequestContext) -> list[dict[str, str]]:
        zone = self.settings.availability_zone
        return [{"name": zone, "resource": kind, "state": "available"}
                for kind in ("network", "router")]  # fmt: skip

    def agents(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Every host's agents (none for a caller policy does not let see them)."""
        return self.agent_records.list_agents(ctx, {})

    def hosted_by_agent(self, ctx: RequestContext, agent_id: str, kind: Hosting) -> list[Any]:
        """The networks (``DHCP_NETWORKS``) or routers (``L3_ROUTERS``) an agent was
        given, as their collection shows them."""
        ids = self.agent_records.hosted(ctx, agent_id, kind)
        if not ids:
            return []
        by_kind: dict[Hosting, Collection[Any]] = {
            DHCP_NETWORKS: self.networks,
            L3_ROUTERS: self.routers,
        }
        return by_kind[kind].list_page(ctx, [("id", i) for i in ids]).rows

    # bootstrap ----------------------------------------------------------------------------

    def public_network(self) -> tuple[str, str | None] | None:
        """(id, first subnet's range) of the external network ``public``; None before it
        is made."""
        with self.core.db.reader() as session:
            existing = session.scalar(
                select(models.Network.id).where(
                    models.Network.name == "public", models.Network.external
                )
            )
            if not existing:
                return None
            cidr = session.scalar(
                select(models.Subnet.cidr)
                .where(models.Subnet.network_id == existing)
                .order_by(models.Subnet.ip_version, models.Subnet.created_at)
            )
        return str(existing), (str(cidr) if cidr else None)

    def ensure_public_network(
        self, admin_project: str, host_leg: bool, cidr_text: str | None = None
    ) -> str | None:
        """Create the external network ``public`` once (on ``cidr_text``, by default
        ``network.public_cidr``); returns its id."""
        ctx = RequestContext.admin()
        existing = self.public_network()
        if existing:
            return existing[0]
        cidr = ipaddress.ip_network(cidr_text or self.settings.public_cidr)
        network = self.networks.create(
            ctx,
            {
                "name": "public",
                "router:external": True,
                "is_default": True,
                "project_id": admin_project,
                "description": "Default external network (host-internal bridge, no uplink)",
            },
        )
        with self.core.db.writer() as session:
            row = session.get(models.Network, network.id)
            assert row is not None
            row.host_leg = host_leg
        self.subnets.create(
            ctx,
            {
                "name": "public-subnet",
                "network_id": network.id,
                "cidr": str(cidr),
                "ip_version": cidr.version,
                "enable_dhcp": False,
                "project_id": admin_project,
            },
        )
        return network.id

    # interface.NetworkService --------------------------------------------------------------

    def allocate_for_instance(
        self,
        ctx: RequestContext,
        instance_id: str,
        host: str,
        requested: Requested,
        *,
        security_groups: list[str] | None = None,
        availability_zone: str = "nova",
    ) -> list[PortInfo]:
        return self.instances.allocate_for_instance(
            ctx, instance_id, host, requested,
            security_groups=security_groups, availability_zone=availability_zone,
        )  # fmt: skip

    def missing_security_groups(self, ctx: RequestContext, names: list[str]) -> list[str]:
        return self.instances.missing_security_groups(ctx, names)

    def deallocate_for_instance(self, ctx: RequestContext, instance_id: str) -> None:
        self.instances.deallocate_for_instance(ctx, instance_id)

    def get_instance_nw_info(self, ctx: RequestContext, instance_id: str) -> list[PortInfo]:
        return self.instances.get_instance_nw_info(ctx, instance_id)

    def addresses(self, ctx: RequestContext, instance_id: str) -> Addresses:
        return self.instances.addresses(ctx, instance_id)

    def addresses_for(
        self, ctx: RequestContext, instance_ids: Sequence[str]
    ) -> dict[str, Addresses]:
        return self.instances.addresses_for(ctx, instance_ids)

    def attach_interface(
        self, ctx: RequestContext, instance_id: str, host: str, request: NetworkRequest
    ) -> PortInfo:
        return self.instances.attach_interface(ctx, instance_id, host, request)

    def detach_interface(self, ctx: RequestContext, instance_id: str, port_id: str) -> None:
        self.instances.detach_interface(ctx, instance_id, port_id)

    def setup_instance_network(self, instance_id: str, ports: list[PortInfo]) -> Path:
        return self.instances.setup_instance_network(instance_id, ports)

    def setup_instance_taps(self, instance_id: str, ports: list[PortInfo]) -> list[VifTap]:
        return self.instances.setup_instance_taps(instance_id, ports)

    def teardown_instance_network(self, instance_id: str) -> None:
        self.instances.teardown_instance_network(instance_id)

    def port_counters(self, ports: Sequence[tuple[str, str]]) -> dict[str, PortCounters]:
        return self.core.plane.port_counters(ports)

    def set_metadata_provider(self, provider: MetadataProvider | None) -> None:
        self.instances.set_metadata_provider(provider)

    def get_port_info(self, ctx: RequestContext, port_id: str) -> PortInfo:
        return self.instances.get_port_info(ctx, port_id)

    def get_network_info(self, ctx: RequestContext, network_id: str) -> NetworkInfo:
        return self.instances.get_network_info(ctx, network_id)

    def find_security_group(
        self, ctx: RequestContext, name_or_id: str, project_id: str | None = None
    ) -> SecurityGroupInfo:
        return self.instances.find_security_group(ctx, name_or_id, project_id)

    def set_port_security_groups(
        self, ctx: RequestContext, port_id: str, group_ids: Sequence[str]
    ) -> PortInfo:
        return self.instances.set_port_security_groups(ctx, port_id, group_ids)

    # -- Nova's proxy APIs (onestack.network.interface.NetworkProxyService) -----------------

    def list_networks(self, ctx: RequestContext) -> list[NetworkInfo]:
        return self.nova_proxy.list_networks(ctx)

    def list_security_groups(
        self, ctx: RequestContext, project_id: str | None
    ) -> list[SecurityGroupRecord]:
        return self.nova_proxy.list_security_groups(ctx, project_id)

    def get_security_group(self, ctx: RequestContext, group_id: str) -> SecurityGroupRecord:
        return self.nova_proxy.get_security_group(ctx, group_id)

    def create_security_group(
        self, ctx: RequestContext, name: str, description: str
    ) -> SecurityGroupRecord:
        return self.nova_proxy.create_security_group(ctx, name, description)

    def update_security_group(
        self, ctx: RequestContext, group_id: str, name: str, description: str
    ) -> SecurityGroupRecord:
        return self.nova_proxy.update_security_group(ctx, group_id, name, description)

    def delete_security_group(self, ctx: RequestContext, group_id: str) -> None:
        self.nova_proxy.delete_security_group(ctx, group_id)

    def create_security_group_rule(
        self,
        ctx: RequestContext,
        group_id: str,
        *,
        ethertype: str,
        protocol: str | None,
        port_range_min: int | None,
        port_range_max: int | None,
        remote_ip_prefix: str | None,
        remote_group_id: str | None,
    ) -> SecurityGroupRuleRecord:
        return self.nova_proxy.create_security_group_rule(
            ctx,
            group_id,
            ethertype=ethertype,
            protocol=protocol,
            port_range_min=port_range_min,
            port_range_max=port_range_max,
            remote_ip_prefix=remote_ip_prefix,
            remote_group_id=remote_group_id,
        )

    def delete_security_group_rule(self, ctx: RequestContext, rule_id: str) -> None:
        self.nova_proxy.delete_security_group_rule(ctx, rule_id)

    def list_floating_ips(self, ctx: RequestContext) -> list[FloatingIPRecord]:
        return self.nova_proxy.list_floating_ips(ctx)

    def get_floating_ip(self, ctx: RequestContext, fip_id: str) -> FloatingIPRecord:
        return self.nova_proxy.get_floating_ip(ctx, fip_id)

    def find_floating_ip(self, ctx: RequestContext, address: str) -> FloatingIPRecord:
        return self.nova_proxy.find_floating_ip(ctx, address)

    def create_floating_ip(self, ctx: RequestContext, network_id: str) -> FloatingIPRecord:
        return self.nova_proxy.create_floating_ip(ctx, network_id)

    def delete_floating_ip(self, ctx: RequestContext, fip_id: str) -> None:
        self.nova_proxy.delete_floating_ip(ctx, fip_id)

    def associate_floating_ip(
        self, ctx: RequestContext, fip_id: str, port_id: str | None, fixed_address: str | None
    ) -> FloatingIPRecord:
        return self.nova_proxy.associate_floating_ip(ctx, fip_id, port_id, fixed_address)


if TYPE_CHECKING:
    from onestack.network.interface import NetworkProxyService, NetworkService

    def _implements_the_protocol(manager: NetworkManager) -> NetworkService:
        return manager

    def _implements_the_proxy_protocol(manager: NetworkManager) -> NetworkProxyService:
        return manager
