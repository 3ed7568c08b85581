"""Compute's side of networking: ports for instances, their namespace, metadata.

The compute agent calls the network service only through its Protocol
(``onestack.network.interface.NetworkService``: the in-process manager or
the bus client, the agent cannot tell) with these helpers.  Without a
network service, or without its data plane on this host, instances keep a
private network namespace of their own.

:class:`InstanceMetadataProvider` answers the metadata service
(169.254.169.254) with an instance's own data from compute's tables.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.exceptions import NotSupported
from onestack.compute.driver import TapVif
from onestack.compute.models import Instance

if TYPE_CHECKING:
    from onestack.network.interface import InstanceMetadata, NetworkService, Requested

LOG = logging.getLogger(__name__)


def owner_context(instance: Instance, request_id: str = "") -> RequestContext:
    """The instance owner's context (network resources are created in its project)."""
    return RequestContext(
        request_id=request_id,
        user_id=instance.user_id,
        project_id=instance.project_id,
        roles=("member", "reader"),
    )


def requested_networks(value: Any) -> Requested:
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


def allocate(network: NetworkService, instance: Instance, host: str, request_id: str = "") -> None:
    """Create the instance's ports (once; a rebuilt instance keeps them)."""
    ctx = owner_context(instance, request_id)
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


def netns_path(network: NetworkService | None, instance: Instance) -> str | None:
    """Plug the instance's ports into a namespace on this host; its path, or None when
    there is no network service, no port, or no data plane on this host."""
    if network is None:
        return None
    ports = network.get_instance_nw_info(owner_context(instance), instance.id)
    if not ports:
        return None
    try:
        return str(network.setup_instance_network(instance.id, ports))
    except NotSupported:
        return None


def tap_vifs(network: NetworkService | None, instance: Instance) -> tuple[TapVif, ...]:
    """Plug the instance's ports as taps on this host (VMs); None without a data plane."""
    if network is None:
        return ()
    ports = network.get_instance_nw_info(owner_context(instance), instance.id)
    if not ports:
        return ()
    try:
        vifs = network.setup_instance_taps(instance.id, ports)
    except NotSupported:
        return ()
    return tuple(TapVif(v.port_id, v.mac_address, v.mtu, v.netns_path, v.device) for v in vifs)


def release(network: NetworkService | None, instance: Instance, request_id: str = "") -> None:
    """Remove the namespace and the ports the instance had.  Failures are logged with
    their traceback (the instance is gone either way); they never raise."""
    if network is None:
        return
    try:
        network.teardown_instance_network(instance.id)
        network.deallocate_for_instance(owner_context(instance, request_id), instance.id)
    except Exception:
        LOG.exception("[%s] releasing the network of %s failed", request_id, instance.id)


class InstanceMetadataProvider:
    """What the metadata service tells an instance about itself, from compute's tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def instance_metadata(self, instance_id: str) -> InstanceMetadata | None:
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
