"""Rendering: table rows to Neutron's JSON resources (and ``fields=`` selection)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from onestack.common.context import RequestContext

if TYPE_CHECKING:
    from onestack.network import models


def ts(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _standard(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "project_id": row.project_id,
        "tenant_id": row.project_id,
        "description": row.description,
        "revision_number": row.revision_number,
        "created_at": ts(row.created_at),
        "updated_at": ts(row.updated_at),
        "tags": list(getattr(row, "tag_list", [])),
    }


def network(row: models.Network, ctx: RequestContext, az: str = "nova") -> dict[str, Any]:
    body = {
        **_standard(row),
        "name": row.name,
        "status": row.status,
        "admin_state_up": row.admin_state_up,
        "shared": row.shared,
        "router:external": row.external,
        "is_default": row.is_default if row.external else False,
        "mtu": row.mtu,
        "port_security_enabled": row.port_security_enabled,
        "subnets": [s.id for s in row.subnets],
        "availability_zone_hints": list(row.availability_zone_hints or []),
        "availability_zones": [az],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "l2_adjacency": True,
        "dns_domain": row.dns_domain,
    }
    if ctx.is_admin:
        body["provider:network_type"] = row.network_type
        body["provider:physical_network"] = row.physical_network
        body["provider:segmentation_id"] = row.segmentation_id
    return body


def subnet(row: models.Subnet, ctx: RequestContext) -> dict[str, Any]:
    return {
        **_standard(row),
        "name": row.name,
        "network_id": row.network_id,
        "ip_version": row.ip_version,
        "cidr": row.cidr,
        "gateway_ip": row.gateway_ip,
        "enable_dhcp": row.enable_dhcp,
        "allocation_pools": list(row.allocation_pools or []),
        "dns_nameservers": list(row.dns_nameservers or []),
        "host_routes": list(row.host_routes or []),
        "ipv6_ra_mode": row.ipv6_ra_mode,
        "ipv6_address_mode": row.ipv6_address_mode,
        "subnetpool_id": row.subnetpool_id,
        "service_types": list(row.service_types or []),
        "segment_id": row.segment_id,
        "dns_publish_fixed_ip": False,
        "router:external": bool(row.network.external),
    }


def subnetpool(row: models.SubnetPool, ctx: RequestContext) -> dict[str, Any]:
    return {
        **_standard(row),
        "name": row.name,
        "ip_version": row.ip_version,
        "prefixes": list(row.prefixes or []),
        "default_prefixlen": row.default_prefixlen,
        "min_prefixlen": row.min_prefixlen,
        "max_prefixlen": row.max_prefixlen,
        "shared": row.shared,
        "is_default": row.is_default,
        "default_quota": row.default_quota,
        "address_scope_id": row.address_scope_id,
    }


def port(row: models.Port, ctx: RequestContext) -> dict[str, Any]:
    body = {
        **_standard(row),
        "name": row.name,
        "network_id": row.network_id,
        "mac_address": row.mac_address,
        "admin_state_up": row.admin_state_up,
        "status": row.status,
        "device_id": row.device_id,
        "device_owner": row.device_owner,
        "fixed_ips": [
            {"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in row.fixed_ips
        ],
        "security_groups": row.security_group_ids,
        "allowed_address_pairs": [
            {"ip_address": p["ip_address"], "mac_address": p.get("mac_address", row.mac_address)}
            for p in row.allowed_address_pairs or []
        ],
        "port_security_enabled": row.port_security_enabled,
        "binding:vnic_type": row.binding_vnic_type,
        "dns_name": row.dns_name,
        "dns_assignment": [],
        "extra_dhcp_opts": [dict(o) for o in row.extra_dhcp_opts or []],
        "propagate_uplink_status": False,
    }
    if ctx.is_admin:
        bound = bool(row.binding_host_id)
        body["binding:host_id"] = row.binding_host_id
        body["binding:profile"] = {
            k: v for k, v in (row.binding_profile or {}).items() if not k.startswith("onestack")
        }
        body["binding:vif_type"] = row.vif_type if bound else "unbound"
        body["binding:vif_details"] = (
            {"port_filter": True, "connectivity": "l2", "bridge_name": f"osbr-{row.network_id[:8]}"}
            if bound and row.vif_type == "bridge"
            else {}
        )
    return body


def router(row: models.Router, ctx: RequestContext, az: str = "nova") -> dict[str, Any]:
    gateway = None
    if row.gw_network_id:
        gateway = {
            "network_id": row.gw_network_id,
            "enable_snat": row.enable_snat,
            "external_fixed_ips": list(getattr(row, "gw_fixed_ips", [])),
        }
    body = {
        **_standard(row),
        "name": row.name,
        "status": row.status,
        "admin_state_up": row.admin_state_up,
        "external_gateway_info": gateway,
        "routes": list(row.routes or []),
        "availability_zone_hints": list(row.availability_zone_hints or []),
        "availability_zones": [az],
        "flavor_id": None,
    }
    if ctx.is_admin:  # Neutron shows these to admins only
        body["distributed"] = bool(row.distributed)
        body["ha"] = False
    return body


def floatingip(row: models.FloatingIP, ctx: RequestContext) -> dict[str, Any]:
    return {
        **_standard(row),
        "floating_network_id": row.floating_network_id,
        "floating_ip_address": row.floating_ip_address,
        "fixed_ip_address": row.fixed_ip_address,
        "port_id": row.port_id,
        "router_id": row.router_id,
        "status": row.status,
        "port_details": None,
        "port_forwardings": [],
        "qos_policy_id": None,
    }


def security_group_rule(row: models.SecurityGroupRule, ctx: RequestContext) -> dict[str, Any]:
    return {
        "id": row.id,
        "project_id": row.project_id,
        "tenant_id": row.project_id,
        "security_group_id": row.security_group_id,
        "direction": row.direction,
        "ethertype": row.ethertype,
        "protocol": row.protocol,
        "port_range_min": row.port_range_min,
        "port_range_max": row.port_range_max,
        "remote_ip_prefix": row.remote_ip_prefix,
        "remote_group_id": row.remote_group_id,
        "remote_address_group_id": None,
        "normalized_cidr": (
            str(ipaddress.ip_network(row.remote_ip_prefix, strict=False))
            if row.remote_ip_prefix
            else None
        ),
        "description": row.description,
        "revision_number": row.revision_number,
        "created_at": ts(row.created_at),
        "updated_at": ts(row.updated_at),
        "belongs_to_default_sg": None,
    }


def security_group(row: models.SecurityGroup, ctx: RequestContext) -> dict[str, Any]:
    return {
        **_standard(row),
        "name": row.name,
        "stateful": row.stateful,
        "shared": False,
        "security_group_rules": [security_group_rule(r, ctx) for r in row.rules],
    }


Renderer = Callable[[Any, RequestContext], dict[str, Any]]


def metering_label(row: models.MeteringLabel, ctx: RequestContext) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "project_id": row.project_id,
        "tenant_id": row.project_id,
        "shared": row.shared,
    }


def metering_label_rule(row: models.MeteringLabelRule, ctx: RequestContext) -> dict[str, Any]:
    return {
        "id": row.id,
        "metering_label_id": row.metering_label_id,
        "direction": row.direction,
        "excluded": row.excluded,
        "remote_ip_prefix": row.remote_ip_prefix,
        "source_ip_prefix": row.source_ip_prefix,
        "destination_ip_prefix": row.destination_ip_prefix,
    }


def select_fields(body: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    wanted = [f for f in fields if f]
    if not wanted:
        return body
    return {k: v for k, v in body.items() if k in wanted}
