"""Compute's side of networking: ports for instances, their namespace, metadata.

The compute agent calls the network service's public interface
(``onestack.network.interface``) through these helpers, and registers
``InstanceMetadataProvider`` so that the metadata service at
169.254.169.254 can answer with an instance's own data.  Without a network
service (or without its data plane on this host) instances keep a private
network namespace of their own, as before.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.compute.models import Instance

LOG = logging.getLogger(__name__)


def owner_context(instance: Instance) -> RequestContext:
    """The instance owner's context (network resources are created in its project)."""
    return RequestContext(
        user_id=instance.user_id, project_id=instance.project_id, roles=("member", "reader")
    )


def requested_networks(value: Any) -> Any:
    """``Instance.networks`` as the network interface takes it."""
    from onestack.network.interface import NetworkRequest

    if value in (None, "none", []):
        return "none"
    if value == "auto":
        return "auto"
    return [
        NetworkRequest(
            network_id=item.get("uuid"), port_id=item.get("port"), fixed_ip=item.get("fixed_ip")
        )
        for item in value
        if isinstance(item, Mapping)
    ]


def allocate(network: Any, instance: Instance, host: str) -> None:
    """Create the instance's ports (once; a rebuilt instance keeps them)."""
    ctx = owner_context(instance)
    if network.get_instance_nw_info(ctx, instance.id):
        return
    network.allocate_for_instance(
        ctx,
        instance.id,
        host,
        requested_networks(instance.networks),
        security_groups=list(instance.security_groups or []) or None,
        availability_zone=instance.availability_zone or "nova",
    )


def netns_path(network: Any, instance: Instance) -> str | None:
    """Plug the instance's ports into a namespace on this host; its path, or None."""
    if network is None or getattr(network, "plumber", None) is None:
        return None
    ports = network.get_instance_nw_info(owner_context(instance), instance.id)
    if not ports:
        return None
    return str(network.setup_instance_network(instance.id, ports))


def tap_vifs(network: Any, instance: Instance) -> tuple[Any, ...]:
    """Plug the instance's ports as taps on this host (VMs); their VifTaps, as TapVifs."""
    from onestack.compute.driver import TapVif

    if network is None or getattr(network, "plumber", None) is None:
        return ()
    ports = network.get_instance_nw_info(owner_context(instance), instance.id)
    if not ports:
        return ()
    return tuple(
        TapVif(v.port_id, v.mac_address, v.mtu, v.netns_path, v.device)
        for v in network.setup_instance_taps(instance.id, ports)
    )


def release(network: Any, instance_id: str, project_id: str, user_id: str) -> None:
    """Remove the namespace and the ports the instance had (never raises)."""
    if network is None:
        return
    ctx = RequestContext(user_id=user_id, project_id=project_id, roles=("member",))
    try:
        network.teardown_instance_network(instance_id)
        network.deallocate_for_instance(ctx, instance_id)
    except Exception:
        LOG.exception("releasing the network of %s failed", instance_id)


class InstanceMetadataProvider:
    """What the metadata service tells an instance about itself, from compute's tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def instance_metadata(self, instance_id: str) -> Any:
        from onestack.network.interface import InstanceMetadata

        with self.db.reader() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.deleted:
                return None
            user_data = None
            if instance.user_data:
                try:
                    user_data = base64.b64decode(instance.user_data)
                except (binascii.Error, ValueError):
                    user_data = None
            keys = {}
            if instance.key_name and instance.key_data:
                keys[instance.key_name] = instance.key_data
            return InstanceMetadata(
                uuid=instance.id,
                name=instance.name,
                hostname=instance.hostname,
                project_id=instance.project_id,
                availability_zone=instance.availability_zone or "nova",
                public_keys=keys,
                user_data=user_data,
                meta=dict(instance.meta or {}),
                launch_index=instance.launch_index or 0,
            )


def port_view(port: Any, status: str = "ACTIVE") -> dict[str, Any]:
    """Nova's ``interfaceAttachment`` of one port (PortInfo)."""
    return {
        "port_state": status,
        "fixed_ips": [
            {"subnet_id": ip.subnet_id, "ip_address": ip.address} for ip in port.fixed_ips
        ],
        "port_id": port.id,
        "net_id": port.network_id,
        "mac_addr": port.mac_address,
    }


def change_security_group(
    db: Database, network: Any, ctx: RequestContext, instance: Instance, name: str, add: bool
) -> None:
    """Nova's addSecurityGroup/removeSecurityGroup: every port of the instance."""
    from onestack.common.exceptions import BadRequest, NotFound

    groups = network.list_security_groups(ctx, [("project_id", instance.project_id)]).rows
    group = next((g for g in groups if name in (g.id, g.name)), None)
    if group is None:
        raise NotFound(f"Security group {name} not found for project {instance.project_id}.")
    ports = network.get_instance_nw_info(ctx, instance.id)
    current = {p.id: network.get_port(ctx, p.id).security_group_ids for p in ports}
    if add and ports and all(group.id in ids for ids in current.values()):
        raise BadRequest(f"Security group {name} is already associated with the instance")
    if not add and not any(group.id in ids for ids in current.values()):
        raise BadRequest(f"Security group {name} not associated with the instance")
    for port_id, ids in current.items():
        wanted = [*ids, group.id] if add and group.id not in ids else ids
        if not add:
            wanted = [i for i in ids if i != group.id]
        network.update_port(ctx, port_id, {"security_groups": wanted}, None)
    with db.writer() as session:
        row = session.get(Instance, instance.id)
        if row is not None:
            names = [n for n in (row.security_groups or []) if n not in (group.name, group.id)]
            row.security_groups = [*names, group.name] if add else names
