"""Custom parameter constraints: look the value up in the service it names, with the
caller's token (``nova.flavor``, ``glance.image``, ``neutron.network``, ...), or check
its form (``ip_addr``, ``net_cidr``, ...).  A failed look-up is the parameter's 400."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any

from onestack.orchestration.clients.session import CloudSession
from onestack.orchestration.exceptions import ServiceCallFailed
from onestack.orchestration.template.parameters import CustomCheck

_MAC = re.compile(r"^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$")

_LOOKUPS = {
    "nova.server": ("compute", "/servers", "server"),
    "neutron.network": ("network", "/v2.0/networks", "network"),
    "neutron.subnet": ("network", "/v2.0/subnets", "subnet"),
    "neutron.port": ("network", "/v2.0/ports", "port"),
    "neutron.router": ("network", "/v2.0/routers", "router"),
    "neutron.security_group": ("network", "/v2.0/security-groups", "security_group"),
    "cinder.volume": ("volume", "/volumes", "volume"),
    "cinder.snapshot": ("volume", "/snapshots", "snapshot"),
    "cinder.backup": ("volume", "/backups", "backup"),
    "cinder.vtype": ("volume", "/types", "volume_type"),
    "keystone.project": ("identity", "/projects", "project"),
    "keystone.user": ("identity", "/users", "user"),
    "keystone.role": ("identity", "/roles", "role"),
    "keystone.domain": ("identity", "/domains", "domain"),
}


class _Caller:
    def __init__(self, cloud: CloudSession) -> None:
        self.cloud = cloud


def _local(constraint: str, value: Any) -> bool | None:
    text = str(value)
    try:
        if constraint == "ip_addr":
            ipaddress.ip_address(text)
        elif constraint == "net_cidr":
            ipaddress.ip_network(text, strict=False)
        elif constraint == "mac_addr":
            return bool(_MAC.match(text))
        elif constraint == "iso_8601":
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            return None
    except ValueError:
        return False
    return True


async def _exists(cloud: CloudSession, constraint: str, value: Any) -> bool:
    from onestack.orchestration.resources import nova
    from onestack.orchestration.resources.common import find_id

    caller: Any = _Caller(cloud)
    try:
        if constraint == "nova.flavor":
            await nova.flavor_id(caller, value)
        elif constraint == "glance.image":
            await nova.image_id(caller, value)
        elif constraint == "nova.keypair":
            found = await cloud.request("compute", "GET", f"/os-keypairs/{value}", missing_ok=True)
            return found is not None
        elif constraint in _LOOKUPS:
            service, path, key = _LOOKUPS[constraint]
            await find_id(caller, service, path, key, value)
        else:
            return True  # an unknown custom constraint is not checked (as in Heat)
    except ServiceCallFailed as exc:
        if exc.status in (404, 400):
            return False
        raise
    return True


async def check(cloud: CloudSession | None, checks: list[CustomCheck]) -> None:
    for item in checks:
        local = _local(item.constraint, item.value)
        if local is False:
            raise item.error()
        if local is True or cloud is None:
            continue
        if not await _exists(cloud, item.constraint, item.value):
            raise item.error()
