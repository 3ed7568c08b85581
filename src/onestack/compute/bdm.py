"""Block device mappings: the volumes of an instance (Nova's BDMs).

A mapping is the boot volume (``boot_index`` 0, shown as ``/dev/vda``) or an
attached volume (``/dev/vdb`` ...), with the volume service's attachment
once reserved.  This module parses ``block_device_mapping_v2`` at server
create (:func:`plan_boot`), names devices, and releases an instance's volumes
when it is deleted (:func:`release`).  It reaches the volume service only
through ``onestack.volume.interface``.

Supported at boot: ``image`` → ``volume`` (a new volume with the image's
bytes, made at build), ``volume`` → ``volume`` (an existing volume, boot or
data).  ``local`` destinations (the image itself, ephemeral and swap disks)
need no volume and are accepted as Nova accepts them.  ``blank`` and
``snapshot`` sources with a volume destination answer 501.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.exceptions import BadRequest, NotFound, NotSupported, OneStackError
from onestack.compute.exceptions import InvalidBDM
from onestack.compute.models import BlockDeviceMapping, Instance

if TYPE_CHECKING:
    from onestack.volume.interface import VolumeInfo, VolumeService

LOG = logging.getLogger(__name__)

GiB = 1024**3
ROOT_DEVICE = "/dev/vda"
#: Nova's ``match_device`` pattern for requested device names
DEVICE_PATTERN = re.compile(r"(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$")
#: /dev/vdb ... /dev/vdz: what a container or a virtio guest can show
DATA_DEVICES = tuple(f"/dev/vd{chr(c)}" for c in range(ord("b"), ord("z") + 1))
SOURCES = ("image", "volume", "snapshot", "blank")
DESTINATIONS = ("local", "volume")


def owner_context(instance: Instance, request_id: str = "") -> RequestContext:
    """The instance owner's context, for volume calls made on its behalf."""
    return RequestContext(
        request_id=request_id or "req-compute-volumes",
        user_id=instance.user_id,
        project_id=instance.project_id,
        roles=("member", "reader"),
        is_internal=True,
    )


def mappings_of(session: Session, instance_id: str) -> list[BlockDeviceMapping]:
    stmt = select(BlockDeviceMapping).where(BlockDeviceMapping.instance_id == instance_id)
    rows = list(session.scalars(stmt))
    return sorted(rows, key=lambda b: (b.boot_index != 0, b.device_name, b.created_at))


def next_device(used: set[str]) -> str | None:
    for name in DATA_DEVICES:
        if name not in used:
            return name
    return None


# -- block_device_mapping_v2 at server create ------------------------------------


def _int(item: dict[str, Any], key: str, minimum: int | None = None) -> int | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.") from None
    if minimum is not None and number < minimum:
        raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.")
    return number


def _bool(item: dict[str, Any], key: str) -> bool:
    value = item.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    if value is None:
        return False
    raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.")


@dataclass(frozen=True)
class Mapping:
    source_type: str
    destination_type: str
    boot_index: int | None
    uuid: str | None
    volume_size: int | None
    delete_on_termination: bool
    tag: str | None
    device_name: str | None


def parse(raw: Sequence[Any]) -> list[Mapping]:
    """Nova's ``block_device_mapping_v2`` items, checked and normalized."""
    mappings = []
    for item in raw:
        if not isinstance(item, dict):
            raise BadRequest("Invalid input for field/attribute block_device_mapping_v2.")
        source = item.get("source_type") or ("image" if item.get("image_id") else "volume")
        if source not in SOURCES:
            raise BadRequest(f"Invalid input for field/attribute source_type. Value: {source}.")
        destination = item.get("destination_type") or (
            "volume" if source in ("volume", "snapshot") else "local"
        )
        if destination not in DESTINATIONS:
            raise BadRequest(
                f"Invalid input for field/attribute destination_type. Value: {destination}."
            )
        boot_index = _int(item, "boot_index")
        tag = item.get("tag")
        if tag is not None and (not isinstance(tag, str) or not 1 <= len(tag) <= 60):
            raise BadRequest(f"Invalid input for field/attribute tag. Value: {tag}.")
        device = item.get("device_name")
        if device is not None and (not isinstance(device, str) or len(device) > 255):
            raise BadRequest(f"Invalid input for field/attribute device_name. Value: {device}.")
        ident = item.get("uuid")
        if ident is not None and not isinstance(ident, str):
            raise BadRequest(f"Invalid input for field/attribute uuid. Value: {ident}.")
        mappings.append(
            Mapping(
                source_type=source,
                destination_type=destination,
                boot_index=boot_index if boot_index is None or boot_index >= 0 else None,
                uuid=ident or None,
                volume_size=_int(item, "volume_size", 0),
                delete_on_termination=_bool(item, "delete_on_termination"),
                tag=tag,
                device_name=device or None,
            )
        )
    boots = [m.boot_index for m in mappings if m.boot_index is not None]
    if len(boots) != len(set(boots)):
        raise InvalidBDM(
            details="Boot sequence for the instance and image/block device mapping "
            "combination is not valid."
        )
    return mappings


@dataclass
class BootPlan:
    """What server create writes for each instance: the mappings, and the image
    its flavor is checked against (a stand-in for a volume-backed server)."""

    image: Any
    volume_backed: bool
    rows: list[dict[str, Any]] = field(default_factory=list)

    def record(self, session: Session, instance: Instance) -> None:
        now = utcnow()
        for row in self.rows:
            session.add(
                BlockDeviceMapping(
                    id=str(uuid.uuid4()),
                    instance_id=instance.id,
                    status="attaching",
                    created_at=now,
                    updated_at=now,
                    **row,
                )
            )


def plan_boot(
    ctx: RequestContext,
    raw: Sequence[Any],
    image_ref: str,
    image_of: Callable[[str], Any],
    volumes: VolumeService | None,
    max_count: int,
) -> BootPlan | None:
    """The volumes a new server boots with; None when it needs none."""
    mappings = [m for m in parse(raw) if m.destination_type == "volume"]
    if not mappings:
        if not image_ref:
            raise BadRequest("Missing imageRef attribute")
        return None
    if volumes is None:
        raise NotSupported(operation="Booting with volumes without the volume service")
    root = next((m for m in mappings if m.boot_index == 0), None)
    if root is None:
        if not image_ref:
            raise BadRequest("Missing imageRef attribute")
        image = image_of(image_ref)
    else:
        image = SimpleNamespace(id="", min_ram=0, min_disk=0, size=0)
    used = {ROOT_DEVICE}
    rows = []
    for m in sorted(mappings, key=lambda m: m.boot_index != 0):
        row: dict[str, Any] = {
            "source_type": m.source_type,
            "destination_type": "volume",
            "boot_index": m.boot_index,
            "volume_size": m.volume_size,
            "delete_on_termination": m.delete_on_termination,
            "tag": m.tag,
            "volume_id": None,
            "image_id": None,
        }
        if m.source_type in ("blank", "snapshot"):
            raise NotSupported(
                operation=f"Block device mappings from source_type {m.source_type} "
                "to destination_type volume"
            )
        if not m.uuid:
            raise InvalidBDM(details=f"a {m.source_type} source needs a uuid")
        if m.source_type == "image":
            source_image = image_of(m.uuid)
            _check_volume_size(m, source_image)
            row["image_id"] = source_image.id
            if m is root:
                image.min_ram = getattr(source_image, "min_ram", 0) or 0
        else:
            if max_count > 1:
                raise BadRequest("Cannot attach one or more volumes to multiple instances")
            volume = _check_volume(ctx, volumes, m)
            row["volume_id"] = m.uuid
            if m is root:  # the scheduler places the server by the image of its boot volume
                row["image_id"] = volume.image_id
        if m is root:
            device = ROOT_DEVICE
        elif m.device_name and m.device_name in DATA_DEVICES and m.device_name not in used:
            device = m.device_name
        else:
            device = next_device(used) or ""
            if not device:
                raise InvalidBDM(details="too many volumes for one instance")
        used.add(device)
        row["device_name"] = device
        rows.append(row)
    return BootPlan(image=image, volume_backed=root is not None, rows=rows)


def _check_volume_size(m: Mapping, image: Any) -> None:
    if not m.volume_size:
        raise InvalidBDM(
            details="Images with destination_type 'volume' need to have a non-zero size specified"
        )
    size = m.volume_size * GiB
    minimum = max(
        int(getattr(image, "size", 0) or 0), int(getattr(image, "min_disk", 0) or 0) * GiB
    )
    if size < minimum:
        raise BadRequest(
            "Volume is smaller than the minimum size specified in image metadata. "
            f"Volume size is {size} bytes, minimum size is {minimum} bytes."
        )


def _check_volume(ctx: RequestContext, volumes: VolumeService, m: Mapping) -> VolumeInfo:
    assert m.uuid is not None
    try:
        volume = volumes.get_volume(ctx, m.uuid)
    except NotFound:
        raise InvalidBDM(details=f"failed to get volume {m.uuid}.") from None
    if volume.status != "available" and not (volume.multiattach and volume.status == "in-use"):
        raise BadRequest(
            f"Invalid volume: volume {m.uuid} status must be 'available'. "
            f"Currently in '{volume.status}'"
        )
    if m.boot_index == 0 and not volume.bootable:
        raise BadRequest(f"Block Device {m.uuid} is not bootable.")
    return volume


# -- deleting an instance ---------------------------------------------------------


def release(
    db: Database, volumes: VolumeService | None, instance_id: str, request_id: str = ""
) -> None:
    """Detach every volume of a deleted instance (its devices are gone) and delete
    those marked delete_on_termination.  Errors are logged; mappings are removed."""
    with db.reader() as session:
        instance = session.get(Instance, instance_id)
        rows = mappings_of(session, instance_id)
    if instance is None or not instance.deleted or not rows:
        return
    ctx = owner_context(instance, request_id)
    for bdm in rows:
        if volumes is not None and bdm.attachment_id:
            try:
                volumes.detach(ctx, bdm.attachment_id)
            except OneStackError:
                LOG.exception(
                    "[%s] detaching volume %s of %s failed", request_id, bdm.volume_id, instance_id
                )
        if volumes is not None and bdm.volume_id and bdm.delete_on_termination:
            try:
                volumes.delete_volume(ctx, bdm.volume_id)
            except NotFound:
                pass
            except OneStackError:
                LOG.exception(
                    "[%s] deleting volume %s of %s failed", request_id, bdm.volume_id, instance_id
                )
        with db.writer() as session:
            row = session.get(BlockDeviceMapping, bdm.id)
            if row is not None:
                session.delete(row)
