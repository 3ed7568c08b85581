"""Nova's volume proxy APIs: ``os-volumes`` and ``os-snapshots`` as the compute API
served them before microversion 2.36.

Nova answers these from Cinder; so does onestack, through the volume service's
interface (``neighbours.volume_proxy``), never its tables: Cinder's policy,
quotas and validation apply, and its errors keep their status (a 400 stays a
400, a missing volume a 404) except an exceeded quota, which Nova answers 403.
The request bodies are checked as Nova's schemas check them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Forbidden, OverQuota
from onestack.compute.core import ComputeCore
from onestack.volume.interface import SnapshotRecord, VolumeProxyService, VolumeRecord

T = TypeVar("T")

#: the fields Nova's schema takes in a volume create body
VOLUME_STRINGS = (
    "volume_type", "snapshot_id", "availability_zone", "display_name", "display_description",
)  # fmt: skip
SNAPSHOT_STRINGS = ("volume_id", "display_name", "display_description")
TRUE = ("1", "t", "true", "on", "y", "yes")
FALSE = ("0", "f", "false", "off", "n", "no")


class VolumeProxy:
    """``os-volumes`` and ``os-snapshots``."""

    def __init__(self, core: ComputeCore) -> None:
        self.core = core

    @property
    def volume(self) -> VolumeProxyService:
        return self.core.neighbours.require(self.core.neighbours.volume_proxy, "volume")

    # -- volumes ------------------------------------------------------------------

    def volumes(self, ctx: RequestContext, detail: bool) -> list[VolumeRecord]:
        self.core.enforce(ctx, "os-volumes:detail" if detail else "os-volumes:list", ctx.project_id)
        return _nova_errors(lambda: self.volume.list_volumes(ctx))

    def get(self, ctx: RequestContext, volume_id: str) -> VolumeRecord:
        self.core.enforce(ctx, "os-volumes:show", ctx.project_id)
        return _nova_errors(lambda: self.volume.show_volume(ctx, volume_id))

    def create(self, ctx: RequestContext, body: Any) -> VolumeRecord:
        self.core.enforce(ctx, "os-volumes:create", ctx.project_id)
        volume = _section(body, "volume", (*VOLUME_STRINGS, "size", "metadata"))
        size = volume.get("size")  # optional in Nova's schema: Cinder refuses none
        if size is not None and not _size_ok(size):
            raise BadRequest(f"Invalid input for field/attribute size. Value: {size}.")
        metadata = volume.get("metadata", {})
        if not isinstance(metadata, dict):
            raise BadRequest("Invalid input for field/attribute metadata.")
        return _nova_errors(
            lambda: self.volume.create_volume(
                ctx,
                size,
                name=volume.get("display_name"),
                description=volume.get("display_description"),
                volume_type=volume.get("volume_type"),
                availability_zone=volume.get("availability_zone"),
                snapshot_id=volume.get("snapshot_id"),
                metadata=metadata,
            )
        )

    def delete(self, ctx: RequestContext, volume_id: str) -> None:
        self.core.enforce(ctx, "os-volumes:delete", ctx.project_id)
        _nova_errors(lambda: self.volume.delete_volume(ctx, volume_id))

    # -- snapshots ----------------------------------------------------------------

    def snapshots(self, ctx: RequestContext, detail: bool) -> list[SnapshotRecord]:
        rule = "os-volumes:snapshots:detail" if detail else "os-volumes:snapshots:list"
        self.core.enforce(ctx, rule, ctx.project_id)
        return _nova_errors(lambda: self.volume.list_snapshots(ctx))

    def snapshot(self, ctx: RequestContext, snapshot_id: str) -> SnapshotRecord:
        self.core.enforce(ctx, "os-volumes:snapshots:show", ctx.project_id)
        return _nova_errors(lambda: self.volume.show_snapshot(ctx, snapshot_id))

    def create_snapshot(self, ctx: RequestContext, body: Any) -> SnapshotRecord:
        self.core.enforce(ctx, "os-volumes:snapshots:create", ctx.project_id)
        snapshot = _section(body, "snapshot", (*SNAPSHOT_STRINGS, "force"))
        if "volume_id" not in snapshot:
            raise BadRequest(
                "Invalid input for field/attribute snapshot. 'volume_id' is a required property"
            )
        force = _boolean(snapshot.get("force", False))
        return _nova_errors(
            lambda: self.volume.create_snapshot(
                ctx,
                snapshot["volume_id"],
                name=snapshot.get("display_name"),
                description=snapshot.get("display_description"),
                force=force,
            )
        )

    def delete_snapshot(self, ctx: RequestContext, snapshot_id: str) -> None:
        self.core.enforce(ctx, "os-volumes:snapshots:delete", ctx.project_id)
        _nova_errors(lambda: self.volume.delete_snapshot(ctx, snapshot_id))


def _nova_errors(call: Callable[[], T]) -> T:
    """Cinder's errors as Nova answers them: an exceeded quota is a 403."""
    try:
        return call()
    except OverQuota as exc:
        raise Forbidden(exc.message) from None


def _section(body: Any, name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """``body[name]``, a dict of Nova's schema (strings where it wants strings, no
    other properties)."""
    if not isinstance(body, dict) or not isinstance(body.get(name), dict):
        raise BadRequest(f"Invalid input for field/attribute {name}.")
    if set(body) - {name}:
        raise BadRequest("Additional properties are not allowed.")
    section: dict[str, Any] = body[name]
    extra = sorted(set(section) - set(allowed))
    if extra:
        raise BadRequest(
            f"Invalid input for field/attribute {name}. Additional properties are not "
            f"allowed ({', '.join(repr(k) for k in extra)} were unexpected)"
        )
    for key in set(allowed) & set(section) & {*VOLUME_STRINGS, *SNAPSHOT_STRINGS}:
        if not isinstance(section[key], str):
            raise BadRequest(
                f"Invalid input for field/attribute {key}. Value: {section[key]}. "
                f"{section[key]!r} is not of type 'string'"
            )
    return section


def _size_ok(size: Any) -> bool:
    """Nova's schema: an integer of at least 1, or a string of digits."""
    if isinstance(size, bool):
        return False
    if isinstance(size, int):
        return size >= 1
    return isinstance(size, str) and size.isascii() and size.isdigit()


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise BadRequest(f"Invalid value '{value}' for force.")
