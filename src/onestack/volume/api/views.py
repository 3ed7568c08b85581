"""Rendering records as Cinder v3 shows them (field names, types, microversions)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from onestack.common.context import RequestContext
from onestack.common.microversion import APIVersion
from onestack.volume.voltypes import visible_specs

if TYPE_CHECKING:
    from onestack.common.quota import QuotaUsage
    from onestack.volume.models import (
        Attachment,
        Backup,
        Service,
        Snapshot,
        Transfer,
        Volume,
        VolumeType,
    )
    from onestack.volume.volumes import VolumeDetails


def ts(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value is not None else None


def links(prefix: str, collection: str, record_id: str) -> list[dict[str, str]]:
    bookmark = prefix.split("/v3", 1)[0] + prefix.split("/v3", 1)[1]
    return [
        {"href": f"{prefix}/{collection}/{record_id}", "rel": "self"},
        {"href": f"{bookmark}/{collection}/{record_id}", "rel": "bookmark"},
    ]


def volume_attachment(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.volume_id,
        "attachment_id": attachment.id,
        "volume_id": attachment.volume_id,
        "server_id": attachment.instance_uuid,
        "host_name": attachment.attached_host,
        "device": attachment.mountpoint,
        "attached_at": ts(attachment.attach_time),
    }


#: the admin metadata keys Cinder adds to a volume's ``metadata``
VISIBLE_ADMIN_METADATA = ("readonly", "attached_mode")


def visible_admin_metadata(volume: Volume) -> dict[str, str]:
    admin = volume.admin_metadata or {}
    return {k: str(admin[k]) for k in VISIBLE_ADMIN_METADATA if k in admin}


def volume_summary(volume: Volume, prefix: str) -> dict[str, Any]:
    return {"id": volume.id, "name": volume.name, "links": links(prefix, "volumes", volume.id)}


def volume(
    volume: Volume,
    details: VolumeDetails,
    ctx: RequestContext,
    version: APIVersion,
    prefix: str,
    *,
    extended: bool = True,
) -> dict[str, Any]:
    """A volume as Cinder renders it.

    ``extended`` adds what Cinder's API extensions add to show and list
    (``os-vol-tenant-attr``, ``os-vol-host-attr``, ``os-vol-mig-status-attr``,
    ``volume_image_metadata``); create and update answers go without them.
    """
    body: dict[str, Any] = {
        "id": volume.id,
        "name": volume.name,
        "description": volume.description,
        "status": volume.status,
        "size": volume.size,
        "availability_zone": volume.availability_zone,
        "created_at": ts(volume.created_at),
        "updated_at": ts(volume.updated_at),
        "attachments": [volume_attachment(a) for a in details.attachments.get(volume.id, [])],
        "bootable": "true" if volume.bootable else "false",
        "encrypted": False,
        "multiattach": volume.multiattach,
        # Cinder shows the visible admin metadata (``readonly``) among the user's
        "metadata": {**volume.metadata_, **visible_admin_metadata(volume)},
        "links": links(prefix, "volumes", volume.id),
        "volume_type": details.type_names.get(volume.volume_type_id),
        "snapshot_id": volume.snapshot_id,
        "source_volid": volume.source_volid,
        "user_id": volume.user_id,
        "replication_status": None,
        "consistencygroup_id": None,
    }
    if extended:
        body["os-vol-tenant-attr:tenant_id"] = volume.project_id
    if extended and volume.image_metadata:
        body["volume_image_metadata"] = dict(volume.image_metadata)
    if extended and ctx.is_admin:
        body["os-vol-host-attr:host"] = volume.host
        body["os-vol-mig-status-attr:migstat"] = volume.migration_status
        body["os-vol-mig-status-attr:name_id"] = None
        body["migration_status"] = volume.migration_status
    if version.matches("3.13"):
        body["group_id"] = None
    if version.matches("3.21") and ctx.is_admin:
        body["provider_id"] = None
    if version.matches("3.48"):
        body["service_uuid"] = None
        body["shared_targets"] = False
    if version.matches("3.61") and ctx.is_admin:
        body["cluster_name"] = None
    if version.matches("3.63"):
        body["volume_type_id"] = volume.volume_type_id
    if version.matches("3.65"):
        body["consumes_quota"] = True
    return body


def snapshot(
    snap: Snapshot, version: APIVersion, ctx: RequestContext, *, extended: bool = True
) -> dict[str, Any]:
    """A snapshot; ``extended`` adds the ``os-extended-snapshot-attributes``
    that Cinder shows in show and list answers (not in create or update)."""
    body: dict[str, Any] = {
        "id": snap.id,
        "name": snap.name,
        "description": snap.description,
        "volume_id": snap.volume_id,
        "status": snap.status,
        "size": snap.size,
        "created_at": ts(snap.created_at),
        "updated_at": ts(snap.updated_at),
        "metadata": dict(snap.metadata_),
    }
    if extended:
        body["os-extended-snapshot-attributes:progress"] = snap.progress
        body["os-extended-snapshot-attributes:project_id"] = snap.project_id
    if version.matches("3.14"):
        body["group_snapshot_id"] = None
    if version.matches("3.41"):
        body["user_id"] = snap.user_id
    if version.matches("3.65"):
        body["consumes_quota"] = True
    return body


def backup(
    item: Backup, dependents: set[str], version: APIVersion, ctx: RequestContext, prefix: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "status": item.status,
        "availability_zone": item.availability_zone,
        "volume_id": item.volume_id,
        "snapshot_id": item.snapshot_id,
        "size": item.size,
        "object_count": item.object_count,
        "container": item.container,
        "fail_reason": item.fail_reason,
        "created_at": ts(item.created_at),
        "updated_at": ts(item.updated_at),
        "data_timestamp": ts(item.data_timestamp),
        "has_dependent_backups": item.id in dependents,
        "is_incremental": item.is_incremental,
        "links": links(prefix, "backups", item.id),
    }
    if version.matches("3.18") and ctx.is_admin:
        body["os-backup-project-attr:project_id"] = item.project_id
    if version.matches("3.43"):
        body["metadata"] = dict(item.metadata_)
    if version.matches("3.56"):
        body["user_id"] = item.user_id
    if version.matches("3.64"):
        body["encryption_key_id"] = None
    return body


def volume_type(vtype: VolumeType, ctx: RequestContext, answer: str = "show") -> dict[str, Any]:
    """A volume type in a ``show`` (and list), ``create`` or ``update`` answer.

    As in Cinder: ``qos_specs_id`` (administrators) only in show and list,
    ``os-volume-type-access:is_public`` everywhere but in update answers.
    """
    body: dict[str, Any] = {
        "id": vtype.id,
        "name": vtype.name,
        "description": vtype.description,
        "is_public": vtype.is_public,
        "extra_specs": visible_specs(ctx, vtype),
    }
    if answer != "update":
        body["os-volume-type-access:is_public"] = vtype.is_public
    if answer == "show" and ctx.is_admin:
        body["qos_specs_id"] = vtype.qos_specs_id
    return body


def attachment(item: Attachment, *, detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id,
        "status": item.attach_status,
        "instance": item.instance_uuid,
        "volume_id": item.volume_id,
    }
    if detail:
        body.update(
            {
                "attached_at": ts(item.attach_time),
                "detached_at": ts(item.detach_time),
                "attach_mode": item.attach_mode,
                "connection_info": item.connection_info or {},
            }
        )
    return body


def transfer(
    item: Transfer,
    prefix: str,
    collection: str,
    version: APIVersion,
    detail: bool = True,
) -> dict[str, Any]:
    """A transfer; detail adds ``no_snapshots`` from 3.55 and the project ids
    and ``accepted`` from 3.57, as Cinder does."""
    body: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "volume_id": item.volume_id,
        "links": links(prefix, collection, item.id),
    }
    if detail:
        body["created_at"] = ts(item.created_at)
        if version.matches("3.55"):
            body["no_snapshots"] = item.no_snapshots
        if version.matches("3.57"):
            body["source_project_id"] = item.source_project_id
            body["destination_project_id"] = None
            body["accepted"] = False
    return body


def service(item: Service, up: bool) -> dict[str, Any]:
    return {
        "binary": item.binary,
        "host": item.host,
        "zone": item.availability_zone,
        "status": "disabled" if item.disabled else "enabled",
        "state": "up" if up else "down",
        "updated_at": ts(item.updated_at),
        "disabled_reason": item.disabled_reason,
        # Cinder shows the replication fields of volume services only
        **(
            {
                "replication_status": "disabled",
                "active_backend_id": None,
                "frozen": False,
                "backend_state": "up" if up else "down",
            }
            if item.binary == "cinder-volume"
            else {}
        ),
    }


def quota_usage(usage: QuotaUsage) -> dict[str, int]:
    """One resource of ``quota_set`` with ``?usage=true``."""
    return {"limit": usage.limit, "in_use": usage.in_use, "reserved": 0, "allocated": 0}


#: ``limits.absolute`` keys: (limit key, in-use key) of each resource
_ABSOLUTE = {
    "volumes": ("maxTotalVolumes", "totalVolumesUsed"),
    "snapshots": ("maxTotalSnapshots", "totalSnapshotsUsed"),
    "gigabytes": ("maxTotalVolumeGigabytes", "totalGigabytesUsed"),
    "backups": ("maxTotalBackups", "totalBackupsUsed"),
    "backup_gigabytes": ("maxTotalBackupGigabytes", "totalBackupGigabytesUsed"),
}


def absolute_limits(used: Mapping[str, QuotaUsage]) -> dict[str, int]:
    """``limits.absolute`` of ``GET /limits``: every limit first, then every usage."""
    out = {limit: used[name].limit for name, (limit, _) in _ABSOLUTE.items()}
    out.update({in_use: used[name].in_use for name, (_, in_use) in _ABSOLUTE.items()})
    return out
