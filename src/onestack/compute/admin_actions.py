"""Admin and service-to-service operations with little or nothing to do in onestack.

- ``injectNetworkInfo`` (admin): Nova casts it to the server's host, where the
  libvirt driver does nothing (only the removed Xen driver wrote network
  settings into a guest).  onestack answers the same 202 after the same
  checks (the server, the policy, its lock) and changes nothing: a server's
  network settings come from DHCP and the metadata service.
- ``resetNetwork``: removed from Nova (23.0.0, Wallaby) with the Xen driver;
  410 Gone, as Nova answers.
- ``os-assisted-volume-snapshots`` (the service role or admin): Cinder's file
  based volume drivers (NFS, ...) ask Nova's libvirt driver to snapshot the
  qcow2 file of an attached volume.  onestack's volumes are block devices of
  its own volume service, which snapshots them itself; no onestack compute
  driver can do this, so after Nova's checks (the volume is attached to a
  server that has a host: 400 otherwise) the answer is 501 notImplemented.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.compute.exceptions import DriverNotSupported, InstanceLocked
from onestack.compute.models import BlockDeviceMapping, ComputeNode, Instance

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore

SNAPSHOT_OPERATION = "Assisted volume snapshots"


def check_snapshot_body(body: Any) -> tuple[str, dict[str, Any]]:
    """``(volume_id, create_info)`` of a create request, checked as Nova's schema does."""
    snapshot = body.get("snapshot") if isinstance(body, dict) and len(body) == 1 else None
    if not isinstance(snapshot, dict) or set(snapshot) != {"volume_id", "create_info"}:
        raise BadRequest(
            "Invalid input for field/attribute snapshot: 'volume_id' and 'create_info' "
            "are required, nothing else is allowed."
        )
    volume_id, info = snapshot["volume_id"], snapshot["create_info"]
    if not isinstance(volume_id, str) or not isinstance(info, dict):
        raise BadRequest("Invalid input for field/attribute snapshot.")
    if set(info) - {"snapshot_id", "type", "new_file", "id"}:
        raise BadRequest("Invalid input for field/attribute create_info.")
    for key in ("snapshot_id", "type", "new_file"):
        if not isinstance(info.get(key), str):
            raise BadRequest(f"Invalid input for field/attribute {key}.")
    if info["type"] != "qcow2":
        raise BadRequest("Invalid input for field/attribute type. Value: must be 'qcow2'.")
    return volume_id, info


class AdminActions:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db

    def inject_network_info(self, ctx: RequestContext, server_id: str) -> None:
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
        self.core.enforce(ctx, "os-admin-actions:inject_network_info", instance.project_id)
        if instance.locked and not ctx.is_admin:
            raise InstanceLocked(instance_id=instance.id)

    def _snapshot_host(self, volume_id: str) -> str:
        """The host of the server ``volume_id`` is attached to (Nova's 400s otherwise)."""
        with self.db.reader() as session:
            row = session.execute(
                select(Instance.id, Instance.host)
                .join(BlockDeviceMapping, BlockDeviceMapping.instance_id == Instance.id)
                .where(BlockDeviceMapping.volume_id == volume_id, ~Instance.deleted)
            ).first()
            if row is None:
                raise BadRequest(f"No volume Block Device Mapping with id {volume_id}.")
            if not row.host:
                raise BadRequest(f"Instance {row.id} is not ready")
            node = session.scalars(select(ComputeNode).where(ComputeNode.host == row.host)).first()
            return node.hypervisor_type if node is not None else "unknown"

    def create_volume_snapshot(self, ctx: RequestContext, body: Any) -> NoReturn:
        self.core.enforcer.enforce(ctx, "os_compute_api:os-assisted-volume-snapshots:create", {})
        volume_id, _ = check_snapshot_body(body)
        driver = self._snapshot_host(volume_id)
        raise DriverNotSupported(operation=SNAPSHOT_OPERATION, driver=driver)

    def delete_volume_snapshot(
        self, ctx: RequestContext, snapshot_id: str, delete_info: str | None
    ) -> NoReturn:
        self.core.enforcer.enforce(ctx, "os_compute_api:os-assisted-volume-snapshots:delete", {})
        try:
            info = json.loads(delete_info) if delete_info is not None else None
            volume_id = info["volume_id"] if isinstance(info, dict) else None
        except (ValueError, KeyError, TypeError):
            volume_id = None
        if not isinstance(volume_id, str):
            raise BadRequest("delete_info must be a JSON object with 'volume_id'.")
        driver = self._snapshot_host(volume_id)
        raise DriverNotSupported(operation=SNAPSHOT_OPERATION, driver=driver)
