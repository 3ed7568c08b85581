"""The networking service's settings (``[network]`` in the TOML file)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class NetworkSettings(BaseModel):
    """Quotas, defaults and the Linux data plane of the networking service."""

    data_plane: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Build bridges, namespaces, DHCP, routers and firewalls on this host: "
        "'auto' when running as root with the tools present, 'on' to require it, "
        "'off' for an API-only service.",
    )
    host: str | None = Field(
        None,
        description="This host's name on the bus (`network.<host>` takes its instance "
        "plugging); the machine's by default.",
    )
    create_public_network: bool = Field(
        True, description="Create the external network `public` on first start."
    )
    public_cidr: str = Field(
        "172.24.4.0/24",
        description="Subnet of `public` (host-internal bridge, no uplink; DevStack's range). "
        "Left unset, a cloud whose default range another cloud on this host holds takes the "
        "first free 172.24.N.0/24 (and says so); set, a range in use stops the start.",
    )
    public_host_address: bool = Field(
        True,
        description="Give the host the gateway address of `public` (a local address, "
        "no forwarding) so that it reaches floating IPs.",
    )
    default_mtu: int = Field(1500, ge=68, le=9000, description="MTU of new networks.")
    base_mac: str = Field("fa:16:3e:00:00:00", description="Prefix of generated MAC addresses.")
    dns_nameservers: list[str] = Field(
        default_factory=list, description="DNS servers handed out when a subnet names none."
    )
    resync_interval: float = Field(
        5.0, ge=0.2, description="Seconds between the agent's checks of the database."
    )
    metadata_provider: str | None = Field(
        None,
        description="`module:attribute` of an instance-metadata provider; the compute "
        "service registers itself when it runs.",
    )
    availability_zone: str = Field("nova", description="The agents' availability zone.")
    report_interval: float = Field(
        30.0, gt=0, description="Seconds between an agent's reports (its heartbeat)."
    )
    agent_down_time: float = Field(
        75.0, gt=0, description="An agent not heard from for this long is down (not alive)."
    )
    dhcp_agent: bool = Field(
        True, description="Run a DHCP agent on this host (it may be given networks to serve)."
    )
    l3_agent: bool = Field(
        True, description="Run an L3 agent on this host (it may be given routers to host)."
    )
    local_ip: str | None = Field(
        None,
        description="This host's VXLAN tunnel endpoint. Unset: no tunnels, and this host's "
        "agents serve every network (one host); set on every host of a cloud of several.",
    )
    underlay_netns: str | None = Field(
        None,
        description="The network namespace that holds `local_ip` and the host's own "
        "external-network address (simulated hosts); unset: the root namespace.",
    )
    namespace_scope: str = Field(
        "",
        pattern=r"^[a-z0-9]{0,12}$",
        description="Part of this host's bridge namespace names, so that simulated hosts "
        "on one machine do not share them ('' on a host of its own).",
    )
    quota_network: int = Field(100, ge=-1, description="Default quota: networks per project.")
    quota_subnet: int = Field(100, ge=-1, description="Default quota: subnets per project.")
    quota_port: int = Field(500, ge=-1, description="Default quota: ports per project.")
    quota_router: int = Field(10, ge=-1, description="Default quota: routers per project.")
    quota_floatingip: int = Field(50, ge=-1, description="Default quota: floating IPs.")
    quota_security_group: int = Field(10, ge=-1, description="Default quota: security groups.")
    quota_security_group_rule: int = Field(
        100, ge=-1, description="Default quota: security group rules per project."
    )
    quota_subnetpool: int = Field(-1, ge=-1, description="Default quota: subnet pools.")
