"""The compute-facing side of the NetworkManager (see ``onestack.network.interface``)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network.core import NetworkCore
from onestack.network.driver import InstancePlug
from onestack.network.exceptions import (
    BadRequest,
    Conflict,
    NetworkAmbiguous,
    PortBindingFailed,
    PortInUse,
    PortNotFound,
    SecurityGroupNotFound,
)
from onestack.network.interface import (
    Addresses,
    FixedIP,
    MetadataProvider,
    NetworkInfo,
    NetworkRequest,
    PortInfo,
    Requested,
    SecurityGroupInfo,
    VifTap,
)
from onestack.network.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    SecurityGroup,
    Subnet,
)
from onestack.network.networks import Networks
from onestack.network.ports import Ports
from onestack.network.routers import Routers
from onestack.network.secgroups import SecurityGroups
from onestack.network.subnets import Subnets

LOG = logging.getLogger(__name__)

#: how long a server's start waits for the agent to wire its ports
VIF_PLUG_TIMEOUT = 20.0

#: binding:profile key marking ports this service created for an instance
CREATED = "onestack_created"


class InstancePorts:
    """The compute-facing operations: ports of instances, their plumbing and addresses."""

    def __init__(
        self,
        core: NetworkCore,
        networks: Networks,
        subnets: Subnets,
        ports: Ports,
        groups: SecurityGroups,
        routers: Routers,
    ) -> None:
        self.core = core
        self.networks = networks
        self.subnets = subnets
        self.ports = ports
        self.groups = groups
        self.routers = routers

    def set_metadata_provider(self, provider: MetadataProvider | None) -> None:
        self.core.metadata.registered = provider

    # what compute validates and changes ------------------------------------------------------

    def get_port_info(self, ctx: RequestContext, port_id: str) -> PortInfo:
        with self.core.db.reader() as session:
            return self._port_info(session, self.core.port(session, ctx, port_id))

    def get_network_info(self, ctx: RequestContext, network_id: str) -> NetworkInfo:
        with self.core.db.reader() as session:
            row = self.core.network(session, ctx, network_id)
            return NetworkInfo(row.id, row.name, row.project_id, row.shared, row.external)

    def find_security_group(
        self, ctx: RequestContext, name_or_id: str, project_id: str | None = None
    ) -> SecurityGroupInfo:
        project = project_id or ctx.project_id or ""
        self.groups.ensure_default_group(project)
        with self.core.db.reader() as session:
            stmt = self.core.security_groups_visible(ctx).where(
                SecurityGroup.project_id == project,
                (SecurityGroup.id == name_or_id) | (SecurityGroup.name == name_or_id),
            )
            group = session.scalars(stmt.order_by(SecurityGroup.created_at)).first()
            if group is None:
                raise SecurityGroupNotFound(id=name_or_id)
            return SecurityGroupInfo(group.id, group.name, group.project_id)

    def set_port_security_groups(
        self, ctx: RequestContext, port_id: str, group_ids: Sequence[str]
    ) -> PortInfo:
        self.ports.update(ctx, port_id, {"security_groups": list(group_ids)}, None)
        return self.get_port_info(ctx, port_id)

    # allocation -------------------------------------------------------------------------------

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
        if requested == "none":
            return []
        if requested == "auto":
            requested = [NetworkRequest(network_id=self._auto_network(ctx))]
        groups = self._resolve_groups(ctx, security_groups)
        created: list[str] = []
        try:
            for request in requested:
                self._allocate_one(ctx, instance_id, host, request, groups, availability_zone,
                                   created)  # fmt: skip
        except Exception:
            for port_id in created:
                try:
                    self._drop_instance_port(instance_id, port_id)
                except Exception:
                    LOG.exception(
                        "instance %s: removing port %s after a failed allocation failed "
                        "(request %s)", instance_id, port_id, ctx.request_id,
                    )  # fmt: skip
            raise
        return self.get_instance_nw_info(ctx, instance_id)

    def _allocate_one(
        self, ctx: RequestContext, instance_id: str, host: str, request: NetworkRequest,
        groups: list[str] | None, zone: str, created: list[str],
    ) -> str:  # fmt: skip
        binding = {"device_id": instance_id, "device_owner": f"compute:{zone}",
                   "binding:host_id": host}  # fmt: skip
        admin = RequestContext.admin(ctx.request_id)
        if request.port_id:
            port = self.ports.get(ctx, request.port_id)
            if port.device_id and port.device_id != instance_id:
                raise PortInUse(port_id=port.id, net_id=port.network_id, device_id=port.device_id)
            self._check_binding(host, port.id)
            self.ports.update(admin, port.id, binding, None)
            return port.id
        if not request.network_id:
            raise BadRequest(resource="port", msg="a network or a port is required")
        self.networks.get(ctx, request.network_id)
        body: dict[str, Any] = {"network_id": request.network_id,
                                "project_id": ctx.project_id or ""}  # fmt: skip
        if request.fixed_ip:
            body["fixed_ips"] = [{"ip_address": request.fixed_ip}]
        if groups is not None:
            body["security_groups"] = groups
        port = self.ports.create(ctx, body)
        created.append(port.id)
        self.ports.update(admin, port.id, {**binding, "binding:profile": {CREATED: True}}, None)
        self._check_binding(host, port.id)  # a failure releases the port made here
        return port.id

    def _check_binding(self, host: str, port_id: str) -> None:
        """A port binds only to a host whose network agent is not reported down (by an
        injected ``agent_down`` fault); Nova's build then fails with this error."""
        if self.core.faults.agent_down("network", host):
            raise PortBindingFailed(port_id=port_id)

    def missing_security_groups(self, ctx: RequestContext, names: list[str]) -> list[str]:
        missing = []
        for name in names:
            try:
                self._resolve_groups(ctx, [name])
            except SecurityGroupNotFound:
                missing.append(name)
        return missing

    def _resolve_groups(self, ctx: RequestContext, names: list[str] | None) -> list[str] | None:
        if not names:
            return None
        project = ctx.project_id or ""
        self.groups.ensure_default_group(project)
        result = []
        with self.core.db.reader() as session:
            for name in names:
                group = session.scalar(
                    select(SecurityGroup).where(
                        SecurityGroup.project_id == project,
                        (SecurityGroup.id == name) | (SecurityGroup.name == name),
                    )
                )
                if group is None:
                    raise SecurityGroupNotFound(id=name)
                result.append(group.id)
        return result

    def _auto_network(self, ctx: RequestContext) -> str:
        """Nova's get-me-a-network: the project's only network, else a new one with a router."""
        with self.core.db.reader() as session:
            own = list(session.scalars(select(Network).where(
                Network.project_id == ctx.project_id, ~Network.external)))  # fmt: skip
            shared = list(session.scalars(select(Network).where(Network.shared,
                                                                ~Network.external)))  # fmt: skip
            public = session.scalar(select(Network).where(Network.external, Network.is_default))
        candidates = own or shared
        if len(candidates) == 1:
            return candidates[0].id
        if len(candidates) > 1:
            raise NetworkAmbiguous()
        network = self.networks.create(ctx, {"name": "auto_allocated_network"})
        cidr = self._free_auto_cidr(ctx)
        subnet = self.subnets.create(ctx, {"network_id": network.id, "cidr": cidr, "ip_version": 4,
                                          "name": "auto_allocated_subnet_v4"})  # fmt: skip
        if public is not None:
            router = self.routers.create(ctx, {"name": "auto_allocated_router",
                                              "external_gateway_info": {
                                                  "network_id": public.id}})  # fmt: skip
            self.routers.add_router_interface(ctx, router.id, {"subnet_id": subnet.id})
        return network.id

    def _free_auto_cidr(self, ctx: RequestContext) -> str:
        with self.core.db.reader() as session:
            used = {
                c
                for c in session.scalars(
                    select(Subnet.cidr).where(Subnet.project_id == ctx.project_id)
                )
            }
        for third in range(0, 256):
            cidr = f"10.{(hash(ctx.project_id) % 200) + 1}.{third}.0/24"
            if not any(ipaddress.ip_network(cidr).overlaps(ipaddress.ip_network(u)) for u in used):
                return cidr
        raise Conflict("No free address range for an automatically allocated network.")

    def _drop_instance_port(self, instance_id: str, port_id: str) -> None:
        with self.core.db.writer() as session:
            port = session.get(Port, port_id)
            if port is None or port.device_id != instance_id:
                return
            if port.binding_profile.get(CREATED):
                self.ports.release(session, port)
            else:
                port.device_id = ""
                port.device_owner = ""
                port.binding_host_id = ""
                port.status = "DOWN"
                self.core.bump(port)
        self.core.changed()

    def deallocate_for_instance(self, ctx: RequestContext, instance_id: str) -> None:
        with self.core.db.reader() as session:
            ids = list(session.scalars(select(Port.id).where(Port.device_id == instance_id,
                                                             Port.device_owner.startswith(
                                                                 "compute:"))))  # fmt: skip
        for port_id in ids:
            self._drop_instance_port(instance_id, port_id)

    # information ------------------------------------------------------------------------------

    def _port_info(self, session: Session, port: Port) -> PortInfo:
        network = session.get(Network, port.network_id)
        fixed = []
        for alloc in port.fixed_ips:
            subnet = session.get(Subnet, alloc.subnet_id)
            if subnet is None:
                continue
            fixed.append(FixedIP(alloc.ip_address, subnet.id, subnet.cidr, subnet.gateway_ip,
                                 subnet.ip_version))  # fmt: skip
        floating = tuple(session.scalars(select(FloatingIP.floating_ip_address).where(
            FloatingIP.port_id == port.id)))  # fmt: skip
        return PortInfo(
            id=port.id, network_id=port.network_id, network_name=network.name if network else "",
            mac_address=port.mac_address, mtu=network.mtu if network else 1500,
            fixed_ips=tuple(fixed), device_id=port.device_id, floating_ips=floating,
            preexisting=not port.binding_profile.get(CREATED),
            security_groups=tuple(port.security_group_ids),
        )  # fmt: skip

    def get_instance_nw_info(self, ctx: RequestContext, instance_id: str) -> list[PortInfo]:
        with self.core.db.reader() as session:
            ports = session.scalars(
                select(Port).where(Port.device_id == instance_id,
                                   Port.device_owner.startswith("compute:"))
                .order_by(Port.created_at, Port.id)
            ).all()  # fmt: skip
            return [self._port_info(session, p) for p in ports]

    def addresses(self, ctx: RequestContext, instance_id: str) -> Addresses:
        return self.addresses_for(ctx, [instance_id])[instance_id]

    def addresses_for(
        self, ctx: RequestContext, instance_ids: Sequence[str]
    ) -> dict[str, Addresses]:
        """One query for every server: ports, networks, fixed and floating IPs."""
        result: dict[str, Addresses] = {i: {} for i in instance_ids}
        if not result:
            return result
        stmt = (
            select(
                Port.device_id, Port.id, Port.mac_address, Network.id, Network.name,
                IPAllocation.ip_address, Subnet.ip_version, FloatingIP.floating_ip_address,
            )
            .join(Network, Network.id == Port.network_id)
            .outerjoin(IPAllocation, IPAllocation.port_id == Port.id)
            .outerjoin(Subnet, Subnet.id == IPAllocation.subnet_id)
            .outerjoin(FloatingIP, FloatingIP.port_id == Port.id)
            .where(Port.device_id.in_(list(result)), Port.device_owner.startswith("compute:"))
            .order_by(Port.device_id, Port.created_at, Port.id, IPAllocation.position,
                      FloatingIP.created_at, FloatingIP.id)
        )  # fmt: skip
        # rows multiply (fixed IPs x floating IPs): gather each port's in order first
        ports: dict[str, tuple[str, str, list[dict[str, object]], list[dict[str, object]]]] = {}
        with self.core.db.reader() as session:
            rows = session.execute(stmt).all()
        for device, port_id, mac, net_id, net_name, address, version, fip in rows:
            _, _, fixed, floating = ports.setdefault(port_id, (device, net_name or net_id, [], []))
            entry = {"version": version, "addr": address, "OS-EXT-IPS:type": "fixed",
                     "OS-EXT-IPS-MAC:mac_addr": mac}  # fmt: skip
            if address is not None and entry not in fixed:
                fixed.append(entry)
            entry = {"version": 4, "addr": fip, "OS-EXT-IPS:type": "floating",
                     "OS-EXT-IPS-MAC:mac_addr": mac}  # fmt: skip
            if fip is not None and entry not in floating:
                floating.append(entry)
        for device, network, fixed, floating in ports.values():
            result[device].setdefault(network, []).extend([*fixed, *floating])
        return result

    # plumbing on this host -------------------------------------------------------------------

    def setup_instance_network(self, instance_id: str, ports: list[PortInfo]) -> Path:
        """Plug the instance's ports and, when the network agent runs here, return once it
        has wired them (DHCP host entries, security-group chains), so that the instance's
        first DHCP request is answered (Nova waits for network-vif-plugged likewise)."""
        path = self.core.plane.plug_instance(InstancePlug(instance_id, tuple(ports)))
        self._activated(instance_id, ports)
        return path

    def setup_instance_taps(self, instance_id: str, ports: list[PortInfo]) -> list[VifTap]:
        """Plug the ports as taps (VIF type ``tap``); return once the agent wired them."""
        vifs = self.core.plane.plug_instance_taps(InstancePlug(instance_id, tuple(ports)))
        self._activated(instance_id, ports)
        return vifs

    def _activated(self, instance_id: str, ports: list[PortInfo]) -> None:
        with self.core.db.writer() as session:
            for info in ports:
                port = session.get(Port, info.id)
                if port is not None and port.status != "ACTIVE":
                    port.status = "ACTIVE"
                    self.core.bump(port)
        self.core.changed()
        agent = self.core.agent
        if agent is not None and not agent.wait_for_pass(VIF_PLUG_TIMEOUT):
            LOG.warning("instance %s: the network agent did not finish a pass in time", instance_id)

    def teardown_instance_network(self, instance_id: str) -> None:
        self.core.plane.unplug_instance(instance_id)

    def attach_interface(
        self, ctx: RequestContext, instance_id: str, host: str, request: NetworkRequest
    ) -> PortInfo:
        created: list[str] = []
        port_id = self._allocate_one(ctx, instance_id, host, request, None, "nova", created)
        with self.core.db.reader() as session:
            port = session.get(Port, port_id)
            assert port is not None
            info = self._port_info(session, port)
        if self.core.plane.instance_plugged(instance_id):
            self.setup_instance_network(instance_id, self.get_instance_nw_info(ctx, instance_id))
        return info

    def detach_interface(self, ctx: RequestContext, instance_id: str, port_id: str) -> None:
        port = self.ports.get(ctx, port_id)
        if port.device_id != instance_id:
            raise PortNotFound(port_id=port_id)
        self.core.plane.unplug_port(instance_id, port_id)
        self._drop_instance_port(instance_id, port_id)
