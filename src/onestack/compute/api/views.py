"""How compute resources render, microversion by microversion (Nova's views)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from onestack.common.context import RequestContext
from onestack.common.microversion import APIVersion
from onestack.compute import states
from onestack.compute.hosts import HypervisorView, legacy_id

if TYPE_CHECKING:
    from onestack.compute.models import (
        ComputeService,
        Flavor,
        Instance,
        InstanceAction,
        InstanceActionEvent,
        InstanceFault,
        Keypair,
        ServerGroup,
    )


def v(version: APIVersion, minimum: str) -> bool:
    return version.matches(minimum)


def iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def iso_us(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def links(base: str, kind: str, item_id: str) -> list[dict[str, str]]:
    return [
        {"rel": "self", "href": f"{base}/v2.1/{kind}/{item_id}"},
        {"rel": "bookmark", "href": f"{base}/{kind}/{item_id}"},
    ]


# -- servers ------------------------------------------------------------------


def server_brief(base: str, inst: Instance) -> dict[str, Any]:
    return {"id": inst.id, "name": inst.name, "links": links(base, "servers", inst.id)}


#: the statuses Nova shows ``progress`` in
_PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")


def server(
    base: str,
    inst: Instance,
    version: APIVersion,
    ctx: RequestContext,
    fault: InstanceFault | None = None,
    host_up: bool | None = None,
    image_properties: dict[str, str] | None = None,
) -> dict[str, Any]:
    admin = ctx.is_admin
    flavor = inst.flavor or {}
    body: dict[str, Any] = {
        "id": inst.id,
        "name": inst.name,
        "status": states.status(inst.vm_state, inst.task_state),
        "tenant_id": inst.project_id,
        "user_id": inst.user_id,
        "metadata": dict(inst.meta or {}),
        "hostId": _host_id(inst),
        "image": {"id": inst.image_ref, "links": links(base, "images", inst.image_ref)}
        if inst.image_ref
        else "",
        "created": iso(inst.created_at),
        "updated": iso(inst.updated_at),
        "addresses": {},
        "accessIPv4": inst.access_ip_v4 or "",
        "accessIPv6": inst.access_ip_v6 or "",
        "links": links(base, "servers", inst.id),
        "OS-DCF:diskConfig": "AUTO" if inst.auto_disk_config else "MANUAL",
        "OS-EXT-AZ:availability_zone": inst.availability_zone or "",
        "config_drive": inst.config_drive or "",
        "key_name": inst.key_name,
        "OS-SRV-USG:launched_at": iso_us(inst.launched_at),
        "OS-SRV-USG:terminated_at": iso_us(inst.terminated_at),
        "OS-EXT-STS:task_state": inst.task_state,
        "OS-EXT-STS:vm_state": inst.vm_state,
        "OS-EXT-STS:power_state": int(inst.power_state),
        "os-extended-volumes:volumes_attached": [],
    }
    # as in Nova: no key when the server has no security group
    if inst.security_groups:
        body["security_groups"] = [{"name": name} for name in inst.security_groups]
    if body["status"] in _PROGRESS_STATUSES:
        body["progress"] = inst.progress if inst.vm_state == states.BUILDING else 0
    if v(version, "2.98") and isinstance(body["image"], dict):
        body["image"]["properties"] = dict(image_properties or {})
    if v(version, "2.47"):
        body["flavor"] = {
            "vcpus": flavor.get("vcpus"),
            "ram": flavor.get("ram"),
            "disk": flavor.get("disk"),
            "ephemeral": flavor.get("ephemeral", 0),
            "swap": flavor.get("swap", 0),
            "original_name": flavor.get("name"),
        }
        body["flavor"]["extra_specs"] = dict(flavor.get("extra_specs") or {})
    else:
        body["flavor"] = {"id": inst.flavor_id, "links": links(base, "flavors", inst.flavor_id)}
    if admin:
        body["OS-EXT-SRV-ATTR:host"] = inst.host
        body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = inst.node
        body["OS-EXT-SRV-ATTR:instance_name"] = f"instance-{inst.id[:8]}"
        if v(version, "2.3"):
            body["OS-EXT-SRV-ATTR:reservation_id"] = inst.reservation_id
            body["OS-EXT-SRV-ATTR:launch_index"] = inst.launch_index
            body["OS-EXT-SRV-ATTR:kernel_id"] = ""
            body["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
            body["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/root"
            body["OS-EXT-SRV-ATTR:user_data"] = inst.user_data
            body["OS-EXT-SRV-ATTR:hostname"] = inst.hostname
    elif v(version, "2.90"):
        body["OS-EXT-SRV-ATTR:hostname"] = inst.hostname
    if v(version, "2.9"):
        body["locked"] = bool(inst.locked)
    if v(version, "2.73"):
        body["locked_reason"] = inst.locked_reason
    if v(version, "2.16") and admin and host_up is not None:
        body["host_status"] = "UP" if host_up else ("DOWN" if inst.host else "")
    if v(version, "2.19"):
        body["description"] = inst.description
    if v(version, "2.26"):
        body["tags"] = list(inst.tags or [])
    if v(version, "2.63"):
        # certificate validation of images is not done, so none are kept
        body["trusted_image_certificates"] = None
    if v(version, "2.71"):
        body["server_groups"] = [inst.server_group_id] if inst.server_group_id else []
    if v(version, "2.96"):
        body["pinned_availability_zone"] = inst.requested_az
    if v(version, "2.100"):
        hints = {k: v for k, v in (inst.scheduler_hints or {}).items() if not k.startswith("_")}
        body["scheduler_hints"] = hints
    if fault is not None and inst.vm_state in (states.ERROR, states.DELETED):
        body["fault"] = {
            "code": fault.code,
            "created": iso(fault.created_at),
            "message": fault.message,
        }
        if admin or fault.code != 500:
            body["fault"]["details"] = fault.details
    return body


def _host_id(inst: Instance) -> str:
    if not inst.host:
        return ""
    import hashlib

    return hashlib.sha224((inst.project_id + inst.host).encode()).hexdigest()


# -- flavors ------------------------------------------------------------------


def flavor(base: str, item: Flavor, version: APIVersion, detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "links": links(base, "flavors", item.id),
    }
    if v(version, "2.55"):
        body["description"] = item.description
    if not detail:
        return body
    body.update(
        {
            "ram": item.ram,
            "disk": item.disk,
            "vcpus": item.vcpus,
            "OS-FLV-EXT-DATA:ephemeral": item.ephemeral,
            "OS-FLV-DISABLED:disabled": item.disabled,
            "swap": item.swap if (item.swap or v(version, "2.75")) else "",
            "rxtx_factor": item.rxtx_factor,
            "os-flavor-access:is_public": item.is_public,
        }
    )
    if v(version, "2.61"):
        body["extra_specs"] = dict(item.extra_specs or {})
    return body


# -- keypairs -----------------------------------------------------------------


def keypair(item: Keypair, version: APIVersion, *, full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": item.name,
        "public_key": item.public_key,
        "fingerprint": item.fingerprint,
    }
    if v(version, "2.2"):
        body["type"] = item.type
    if full:
        body.update(
            {
                "user_id": item.user_id,
                "created_at": iso_us(item.created_at),
                "deleted": False,
                "deleted_at": None,
                "updated_at": None,
                "id": item.id,
            }
        )
    return body


# -- server groups ------------------------------------------------------------


def server_group(item: ServerGroup, version: APIVersion) -> dict[str, Any]:
    body: dict[str, Any] = {"id": item.id, "name": item.name, "members": list(item.members)}
    if v(version, "2.64"):
        body["policy"] = item.policy
        body["rules"] = dict(item.rules or {})
    else:
        body["policies"] = [item.policy]
        body["metadata"] = {}
    if v(version, "2.13"):
        body["project_id"] = item.project_id
        body["user_id"] = item.user_id
    return body


# -- instance actions ---------------------------------------------------------


def action(item: InstanceAction, version: APIVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": item.action,
        "instance_uuid": item.instance_id,
        "message": item.message,
        "project_id": item.project_id,
        "request_id": item.request_id,
        "start_time": iso_us(item.start_time),
        "user_id": item.user_id,
    }
    if v(version, "2.58"):
        body["updated_at"] = iso_us(item.updated_at)
    return body


def event(item: InstanceActionEvent, version: APIVersion, ctx: RequestContext) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": item.event,
        "start_time": iso_us(item.start_time),
        "finish_time": iso_us(item.finish_time),
        "result": item.result,
    }
    if ctx.is_admin:
        body["traceback"] = item.traceback
    if v(version, "2.62"):
        import hashlib

        body["hostId"] = hashlib.sha224((item.host or "").encode()).hexdigest()
        if ctx.is_admin:
            body["host"] = item.host
    if v(version, "2.84"):
        body["details"] = item.details
    return body


# -- services and hypervisors -------------------------------------------------


def service(
    item: ComputeService, version: APIVersion, up: bool, zone: str | None = None
) -> dict[str, Any]:
    """``zone``: the effective zone (aggregates'), if known; else the service's own."""
    body = {
        "id": item.id if v(version, "2.53") else legacy_id(item.id),
        "binary": item.binary,
        "host": item.host,
        "zone": zone or item.zone,
        "status": "disabled" if item.disabled else "enabled",
        "state": "up" if up else "down",
        "updated_at": iso_us(item.updated_at),
        "disabled_reason": item.disabled_reason,
    }
    if v(version, "2.11"):
        body["forced_down"] = item.forced_down
    return body


def hypervisor(
    view: HypervisorView, version: APIVersion, detail: bool, servers: bool = False
) -> dict[str, Any]:
    node = view.node
    body: dict[str, Any] = {
        "id": node.id if v(version, "2.53") else legacy_id(node.id),
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": "up" if view.up else "down",
        "status": "disabled" if view.service is not None and view.service.disabled else "enabled",
    }
    if servers or (v(version, "2.75") and detail and view.servers):
        body["servers"] = [{"uuid": i, "name": n} for i, n in view.servers]
    if not detail:
        return body
    body.update(
        {
            "hypervisor_type": node.hypervisor_type,
            "hypervisor_version": node.hypervisor_version,
            "host_ip": node.host_ip,
            "service": {
                "host": node.host,
                "id": view.service.id if view.service is not None else None,
                "disabled_reason": view.service.disabled_reason if view.service else None,
            },
        }
    )
    if v(version, "2.88"):
        body["uptime"] = None
        return body
    free_ram = node.memory_mb - view.memory_mb_used
    free_disk = node.local_gb - view.local_gb_used
    body.update(
        {
            "vcpus": node.vcpus,
            "memory_mb": node.memory_mb,
            "local_gb": node.local_gb,
            "vcpus_used": view.vcpus_used,
            "memory_mb_used": view.memory_mb_used,
            "local_gb_used": view.local_gb_used,
            "free_ram_mb": free_ram,
            "free_disk_gb": free_disk,
            "current_workload": 0,
            "running_vms": view.running_vms,
            "disk_available_least": free_disk,
            "cpu_info": _cpu_info(node.cpu_info) if v(version, "2.28") else str(node.cpu_info),
        }
    )
    return body


def _cpu_info(info: dict[str, Any]) -> dict[str, Any]:
    return dict(info)
