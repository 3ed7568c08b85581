"""The networking service's tables (``network_*``), nobody else's.

Every resource carries Neutron's standard attributes (description,
revision_number, created_at, updated_at, tags); IP allocations, port
security-group bindings and tags have their own tables so that filters and
uniqueness are enforced by the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onestack.common.db import Base, JSONType, UTCDateTime, utcnow


class StandardAttrs:
    __allow_unmapped__ = True

    #: the resource's tags, loaded by the manager (not a column)
    tag_list: list[str] = []
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True, default="")
    name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    description: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    revision_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Network(StandardAttrs, Base):
    __tablename__ = "network_networks"

    admin_state_up: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="ACTIVE")
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    external: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    mtu: Mapped[int] = mapped_column(Integer, nullable=False, default=1500)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    network_type: Mapped[str] = mapped_column(String(32), nullable=False, default="vxlan")
    physical_network: Mapped[str | None] = mapped_column(String(64))
    segmentation_id: Mapped[int | None] = mapped_column(Integer)
    availability_zone_hints: Mapped[list[str]] = mapped_column(JSONType, default=list)
    dns_domain: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    #: onestack's own: the host gets the gateway address on this network's bridge
    host_leg: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: an admin removed the network from its DHCP agent: no DHCP agent is given it again
    #: (no DHCP server runs for it) until an admin adds it to one
    dhcp_unscheduled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )

    subnets: Mapped[list[Subnet]] = relationship(
        back_populates="network", lazy="selectin", order_by="Subnet.created_at"
    )


class Subnet(StandardAttrs, Base):
    __tablename__ = "network_subnets"

    network_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_networks.id"), nullable=False, index=True
    )
    ip_version: Mapped[int] = mapped_column(Integer, nullable=False)
    cidr: Mapped[str] = mapped_column(String(64), nullable=False)
    gateway_ip: Mapped[str | None] = mapped_column(String(64))
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    allocation_pools: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    dns_nameservers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    host_routes: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32))
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32))
    subnetpool_id: Mapped[str | None] = mapped_column(String(36))
    service_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    segment_id: Mapped[str | None] = mapped_column(String(36))

    network: Mapped[Network] = relationship(back_populates="subnets", lazy="joined")


class SubnetPool(StandardAttrs, Base):
    __tablename__ = "network_subnetpools"

    ip_version: Mapped[int] = mapped_column(Integer, nullable=False)
    prefixes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    default_prefixlen: Mapped[int] = mapped_column(Integer, nullable=False)
    min_prefixlen: Mapped[int] = mapped_column(Integer, nullable=False)
    max_prefixlen: Mapped[int] = mapped_column(Integer, nullable=False)
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    default_quota: Mapped[int | None] = mapped_column(Integer)
    address_scope_id: Mapped[str | None] = mapped_column(String(36))


class Port(StandardAttrs, Base):
    __tablename__ = "network_ports"
    __table_args__ = (UniqueConstraint("network_id", "mac_address"),)

    network_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_networks.id"), nullable=False, index=True
    )
    mac_address: Mapped[str] = mapped_column(String(32), nullable=False)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="DOWN")
    device_id: Mapped[str] = mapped_column(String(255), nullable=False, default="", index=True)
    device_owner: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    binding_host_id: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    binding_vnic_type: Mapped[str] = mapped_column(String(64), nullable=False, default="normal")
    binding_profile: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    allowed_address_pairs: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    dns_name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    #: ``extra_dhcp_opts``: [{"opt_name", "opt_value", "ip_version"}]
    extra_dhcp_opts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONType, default=list, server_default=text("'[]'")
    )

    fixed_ips: Mapped[list[IPAllocation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="IPAllocation.position"
    )
    security_group_bindings: Mapped[list[PortSecurityGroup]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    #: ``binding:vif_type`` once the core looked at the bound host's agent (not a column)
    vif_type: str = "unbound"

    @property
    def security_group_ids(self) -> list[str]:
        return [b.security_group_id for b in self.security_group_bindings]


class IPAllocation(Base):
    __tablename__ = "network_ip_allocations"
    __table_args__ = (UniqueConstraint("subnet_id", "ip_address"),)

    port_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_ports.id", ondelete="CASCADE"), primary_key=True
    )
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    subnet_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_subnets.id"), nullable=False, index=True
    )
    network_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class PortSecurityGroup(Base):
    __tablename__ = "network_port_security_groups"

    port_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_ports.id", ondelete="CASCADE"), primary_key=True
    )
    security_group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_security_groups.id"), primary_key=True, index=True
    )


class Router(StandardAttrs, Base):
    __tablename__ = "network_routers"

    admin_state_up: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="ACTIVE")
    gw_network_id: Mapped[str | None] = mapped_column(String(36))
    gw_port_id: Mapped[str | None] = mapped_column(String(36))
    enable_snat: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    routes: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    availability_zone_hints: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: the ``dvr`` extension's flag: recorded and shown; the router is centralized anyway
    distributed: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    #: an admin removed the router from its L3 agent: no L3 agent is given it again (it
    #: forwards nothing) until an admin adds it to one
    l3_unscheduled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )

    #: the gateway port's fixed IPs, loaded by the manager (not a column)
    gw_fixed_ips: list[dict[str, str]] = []


class FloatingIP(StandardAttrs, Base):
    __tablename__ = "network_floatingips"

    floating_network_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    floating_ip_address: Mapped[str] = mapped_column(String(64), nullable=False)
    floating_port_id: Mapped[str] = mapped_column(String(36), nullable=False)
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64))
    port_id: Mapped[str | None] = mapped_column(String(36), index=True)
    router_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="DOWN")


class SecurityGroup(StandardAttrs, Base):
    __tablename__ = "network_security_groups"

    stateful: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    rules: Mapped[list[SecurityGroupRule]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="SecurityGroupRule.created_at",
        foreign_keys="SecurityGroupRule.security_group_id",
    )


class SecurityGroupRule(Base):
    __tablename__ = "network_security_group_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True, default="")
    security_group_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("network_security_groups.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    ethertype: Mapped[str] = mapped_column(String(8), nullable=False, default="IPv4")
    protocol: Mapped[str | None] = mapped_column(String(40))
    port_range_min: Mapped[int | None] = mapped_column(Integer)
    port_range_max: Mapped[int | None] = mapped_column(Integer)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    remote_group_id: Mapped[str | None] = mapped_column(String(36), index=True)
    description: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    revision_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Tag(Base):
    __tablename__ = "network_tags"

    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(32), nullable=False)


class DefaultSecurityGroup(Base):
    """The ``default`` group of each project (one row per project, created on first use)."""

    __tablename__ = "network_default_security_groups"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_security_groups.id", ondelete="CASCADE"), nullable=False
    )


#: the agent types (Neutron's names) whose reports and bindings onestack reads
L2_AGENT = "Linux bridge agent"
DHCP_AGENT = "DHCP agent"
L3_AGENT = "L3 agent"
METADATA_AGENT = "Metadata agent"


class Agent(Base):
    """One agent on one host (Neutron's ``agents`` table): its heartbeat says if it lives."""

    __tablename__ = "network_agents"
    __table_args__ = (UniqueConstraint("agent_type", "host"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agent_type: Mapped[str] = mapped_column(String(255), nullable=False)
    binary: Mapped[str] = mapped_column(String(255), nullable=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    host: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    description: Mapped[str | None] = mapped_column(String(255))
    #: what the agent reports: its tunnel endpoint (``tunneling_ip``), bridges, counts
    configurations: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: the last report; None for an agent that is registered but never ran
    heartbeat_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DhcpAgentBinding(Base):
    """The DHCP agent that serves a network (one per network)."""

    __tablename__ = "network_dhcp_agent_bindings"

    network_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_networks.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_agents.id", ondelete="CASCADE"), index=True
    )


class RouterAgentBinding(Base):
    """The L3 agent that hosts a router (one per router)."""

    __tablename__ = "network_router_agent_bindings"

    router_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_routers.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("network_agents.id", ondelete="CASCADE"), index=True
    )


class MeteringLabel(StandardAttrs, Base):
    """The metering extension's label (API only: no traffic is counted)."""

    __tablename__ = "network_metering_labels"

    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class MeteringLabelRule(Base):
    __tablename__ = "network_metering_label_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    metering_label_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("network_metering_labels.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    excluded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    source_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    destination_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
