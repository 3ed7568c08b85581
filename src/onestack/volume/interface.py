"""What other services may use of the volume service (its public Python interface).

The compute service attaches volumes to instances and boots from volumes
through exactly these calls, never through the volume tables: inside the
control plane on the volume manager (``cloud.neighbours.volume``), and from an
agent that may run on another host on ``client.VolumeServiceClient``, which
implements this Protocol over the bus.

Attaching, as Nova does with Cinder's attachments API::

    att = volumes.reserve(ctx, volume_id, instance_uuid)          # volume: reserved
    conn = volumes.connect(ctx, att.id, host="node1", mountpoint="/dev/vdb")
    # conn.device_path is a local block device (a loop device) on the volume's host
    volumes.complete(ctx, att.id)                                  # volume: in-use
    ...
    volumes.detach(ctx, att.id)                                    # device released

Every call raises the volume service's errors (VolumeNotFound,
InvalidVolume, VolumeOverQuota, ...) with Cinder's status codes, so the
caller can pass them on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from onestack.common.context import RequestContext


@dataclass(frozen=True)
class VolumeInfo:
    id: str
    project_id: str
    name: str | None
    size: int  # GiB
    status: str
    attach_status: str
    bootable: bool
    multiattach: bool
    availability_zone: str
    host: str | None
    #: the image the volume's bytes came from (Cinder's ``volume_image_metadata``)
    image_id: str | None = None


@dataclass(frozen=True)
class AttachmentInfo:
    id: str
    volume_id: str
    instance_uuid: str | None
    status: str  # reserved, attaching, attached
    mode: str  # rw or ro
    mountpoint: str | None


@dataclass(frozen=True)
class ConnectionInfo:
    attachment_id: str
    volume_id: str
    #: Cinder's ``driver_volume_type``: "local" for the file backend
    driver_volume_type: str
    #: the block device on the volume's host (e.g. /dev/loop3)
    device_path: str
    access_mode: str  # rw or ro
    host: str  # the volume host that exported it


class VolumeService(Protocol):
    def get_volume(self, ctx: RequestContext, volume_id: str) -> VolumeInfo:
        """The volume if ``ctx`` may see it; VolumeNotFound otherwise."""
        ...

    def reserve(
        self, ctx: RequestContext, volume_id: str, instance_uuid: str, mode: str = "rw"
    ) -> AttachmentInfo:
        """Reserve the volume for an instance (InvalidVolume when it is in use and not
        multiattach)."""
        ...

    def connect(
        self, ctx: RequestContext, attachment_id: str, host: str, mountpoint: str | None = None
    ) -> ConnectionInfo:
        """Export the volume as a local block device for the attachment."""
        ...

    def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        """Mark the attachment attached (the volume becomes in-use)."""
        ...

    def detach(self, ctx: RequestContext, attachment_id: str) -> None:
        """Release the device and remove the attachment (the volume becomes available
        when it was the last one).  Absent attachments are ignored."""
        ...

    def attachments_of(self, ctx: RequestContext, instance_uuid: str) -> list[AttachmentInfo]:
        """The live attachments of an instance (to detach them when it is deleted)."""
        ...

    def create_from_image(
        self,
        ctx: RequestContext,
        image_id: str,
        size: int,
        name: str | None = None,
        timeout: float = 600.0,
    ) -> VolumeInfo:
        """Boot from volume: a volume with the image's bytes, waited for until it is
        available (InvalidVolume when it ends in error)."""
        ...

    def delete_volume(self, ctx: RequestContext, volume_id: str) -> None:
        """Delete a detached volume (delete_on_termination)."""
        ...


@dataclass(frozen=True)
class VolumeRecord:
    """A volume as Nova's ``os-volumes`` proxy shows it."""

    id: str
    status: str
    size: int  # GiB
    availability_zone: str
    created_at: datetime | None
    name: str | None
    description: str | None
    #: the volume type's name
    volume_type: str | None
    snapshot_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    #: the attached attachments
    attachments: tuple[AttachmentInfo, ...] = ()


@dataclass(frozen=True)
class SnapshotRecord:
    """A snapshot as Nova's ``os-snapshots`` proxy shows it."""

    id: str
    volume_id: str
    status: str
    size: int  # GiB
    created_at: datetime | None
    name: str | None
    description: str | None


class VolumeProxyService(Protocol):
    """What the compute API's proxies (``os-volumes``, ``os-snapshots``) use, in the
    control plane only.  Every call acts as the caller, with Cinder's visibility,
    policy, quotas and validation, and raises Cinder's errors (InvalidInput,
    VolumeNotFound, VolumeOverQuota, ...)."""

    def list_volumes(self, ctx: RequestContext) -> list[VolumeRecord]:
        """The caller's project's volumes."""
        ...

    def show_volume(self, ctx: RequestContext, volume_id: str) -> VolumeRecord: ...

    def create_volume(
        self,
        ctx: RequestContext,
        size: object,
        *,
        name: str | None = None,
        description: str | None = None,
        volume_type: str | None = None,
        availability_zone: str | None = None,
        snapshot_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> VolumeRecord:
        """A new volume (``size`` as given: Cinder validates it)."""
        ...

    def delete_volume(self, ctx: RequestContext, volume_id: str) -> None: ...

    def list_snapshots(self, ctx: RequestContext) -> list[SnapshotRecord]:
        """The caller's project's snapshots."""
        ...

    def show_snapshot(self, ctx: RequestContext, snapshot_id: str) -> SnapshotRecord: ...

    def create_snapshot(
        self,
        ctx: RequestContext,
        volume_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        force: bool = False,
    ) -> SnapshotRecord:
        """A snapshot of the volume (of an in-use one only with ``force``)."""
        ...

    def delete_snapshot(self, ctx: RequestContext, snapshot_id: str) -> None: ...
