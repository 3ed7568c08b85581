"""Server actions: stop, start, reboot, pause, suspend, rescue, rebuild, resize,
lock, reset state, createImage and the console output.

Every action checks policy, the lock and the vm_state (409 otherwise), and
that the driver of the server's host can do it (Nova's 501 ``notImplemented``
otherwise, before anything changes), then sets the task_state and records an
instance action in one transaction, and casts to the host's agent through
its typed client.  A cast that cannot be sent puts the task_state back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Conflict, NotSupported, OneStackError
from onestack.compute import states
from onestack.compute.exceptions import FlavorNotFound, InstanceLocked, InvalidState
from onestack.compute.flavors import visible
from onestack.compute.instances import set_flavor, start_action, touch
from onestack.compute.migration_records import advance_in, record_resize
from onestack.compute.models import ComputeService, Flavor, Instance
from onestack.compute.rpcapi import SNAPSHOT_TIMEOUT, SnapshotRequest
from onestack.compute.servers import check_image_fits, flavor_snapshot

LOG = logging.getLogger(__name__)

if TYPE_CHECKING:
    from onestack.compute.attachments import VolumeAttachmentManager
    from onestack.compute.core import ComputeCore
    from onestack.compute.keypairs import KeypairManager
    from onestack.compute.servers import ServerManager

#: the driver capability each action needs, and how the 501 names the operation
NEEDS: dict[str, tuple[str, str]] = {
    "pause": ("pause", "Pausing a server"),
    "unpause": ("pause", "Unpausing a server"),
    "suspend": ("suspend", "Suspending a server"),
    "resume": ("suspend", "Resuming a server"),
    "resize": ("resize", "Resizing a server"),
    "revertResize": ("resize", "Reverting a resize"),
    "createImage": ("snapshot", "Creating an image of a server"),
    "createBackup": ("snapshot", "Creating a backup of a server"),
    "shelve": ("snapshot", "Shelving a server"),
    "rescue": ("rescue", "Rescuing a server"),
    "unrescue": ("rescue", "Unrescuing a server"),
}

Cast = Callable[[str, str, str], Coroutine[Any, Any, None]]


class ServerActions:
    def __init__(
        self,
        core: ComputeCore,
        servers: ServerManager,
        keypairs: KeypairManager,
        attachments: VolumeAttachmentManager,
    ) -> None:
        self.core = core
        self.db = core.db
        self.servers = servers
        self.keypairs = keypairs
        self.attachments = attachments
        agents = core.rpc.agents
        #: the agent's typed method for each action that is a plain cast
        self._casts: dict[str, Cast] = {
            "stop": agents.stop_instance,
            "start": agents.start_instance,
            "pause": agents.pause_instance,
            "unpause": agents.unpause_instance,
            "suspend": agents.suspend_instance,
            "resume": agents.resume_instance,
            "rebuild": agents.rebuild_instance,
            "confirmResize": agents.confirm_resize,
            "revertResize": agents.revert_resize,
        }

    def _begin_unchecked(
        self, ctx: RequestContext, server_id: str, action: str, rule: str
    ) -> Instance:
        """``_begin`` without the check of the host's driver."""
        return self._begin(ctx, server_id, action, rule, driver_check=False)

    def _begin(
        self,
        ctx: RequestContext,
        server_id: str,
        action: str,
        rule: str,
        task: str | None = None,
        driver_check: bool = True,
    ) -> Instance:
        """Check policy, lock, state and the host's driver; set the task_state; record
        the action."""
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, rule, instance.project_id)
            if instance.locked and not ctx.is_admin:
                raise InstanceLocked(instance_id=instance.id)
            if instance.vm_state not in states.ALLOWED[action]:
                raise InvalidState(
                    action=action, instance_id=server_id, attr="vm_state", state=instance.vm_state
                )
            if instance.task_state is not None:
                raise InvalidState(
                    action=action,
                    instance_id=server_id,
                    attr="task_state",
                    state=instance.task_state,
                )
            if instance.host is None:
                raise Conflict(f"Instance {server_id} has no host.")
            if action in NEEDS and driver_check:
                self.core.require(session, instance, *NEEDS[action])
            touch(instance, task_state=task or states.TASK_OF.get(action))
            start_action(
                session,
                instance,
                states.ACTION_NAME[action],
                ctx.request_id,
                ctx.user_id,
                ctx.project_id,
            )
            return instance

    def _send(self, instance: Instance, coro: Coroutine[Any, Any, None]) -> None:
        try:
            self.core.call(coro)
        except OneStackError:
            with self.db.writer() as session:
                row = session.get(Instance, instance.id)
                if row is not None:
                    touch(row, task_state=None)
            raise

    def _cast(self, ctx: RequestContext, instance: Instance, action: str) -> None:
        assert instance.host is not None
        self._send(instance, self._casts[action](instance.host, instance.id, ctx.request_id))

    def simple_action(self, ctx: RequestContext, server_id: str, action: str, rule: str) -> None:
        """stop, start, pause, unpause, suspend, resume."""
        instance = self._begin(ctx, server_id, action, rule)
        self._cast(ctx, instance, action)

    def migrate(self, ctx: RequestContext, server_id: str, live: bool, host: Any) -> None:
        """Cold and live migration: a project's manager (or an admin) may ask, as
        Nova's defaults say, and Nova's checks answer first (the server's state: 409; a
        destination that is no compute host: 400); onestack does not move servers
        between hosts (501)."""
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
            known = host is None or (
                isinstance(host, str)
                and session.scalar(
                    select(func.count()).where(
                        ComputeService.host == host, ComputeService.binary == "nova-compute"
                    )
                )
            )
        rule = "os-migrate-server:migrate_live" if live else "os-migrate-server:migrate"
        self.core.enforce(ctx, rule, instance.project_id)
        if host:
            self.core.enforce(ctx, rule + ":host", instance.project_id)
        action = "os-migrateLive" if live else "migrate"
        allowed = (states.ACTIVE, states.PAUSED) if live else (states.ACTIVE, states.STOPPED)
        if instance.vm_state not in allowed:
            raise InvalidState(
                action=action, instance_id=server_id, attr="vm_state", state=instance.vm_state
            )
        if not known:
            raise BadRequest(f"Compute host {host} could not be found.")
        raise NotSupported(operation="Live migration" if live else "Cold migration")

    def reboot(self, ctx: RequestContext, server_id: str, hard: bool) -> None:
        with self.db.reader() as session:
            current = self.core.instance(session, ctx, server_id)
        if not hard and current.vm_state != states.ACTIVE:
            raise InvalidState(
                action="reboot", instance_id=server_id, attr="vm_state", state=current.vm_state
            )
        task = states.REBOOTING_HARD if hard else states.REBOOTING
        instance = self._begin(ctx, server_id, "reboot", "servers:reboot", task)
        assert instance.host is not None
        agents = self.core.rpc.agents
        self._send(
            instance, agents.reboot_instance(instance.host, instance.id, ctx.request_id, hard)
        )

    def rescue(
        self, ctx: RequestContext, server_id: str, image_ref: str | None, stable: bool
    ) -> None:
        """Boot the server from ``image_ref`` (default: its own image), its root disk
        attached as a second disk.  A volume-backed server needs stable rescue (2.87)
        and a rescue image that says how to attach it (``hw_rescue_device`` or
        ``hw_rescue_bus``), as in Nova."""
        with self.db.reader() as session:
            current = self.core.instance(session, ctx, server_id)
        self.core.enforce(ctx, "os-rescue", current.project_id)
        if current.locked and not ctx.is_admin:  # Nova checks lock and state first
            raise InstanceLocked(instance_id=current.id)
        if current.vm_state not in states.ALLOWED["rescue"]:
            raise InvalidState(
                action="rescue", instance_id=server_id, attr="vm_state", state=current.vm_state
            )
        image_ref = image_ref or current.image_ref
        if self.attachments.is_volume_backed(server_id):
            image = self.servers.image(ctx, image_ref) if stable and image_ref else None
            props = image.properties if image is not None else {}
            if not ("hw_rescue_device" in props or "hw_rescue_bus" in props):
                raise BadRequest(
                    f"Instance {server_id} cannot be rescued: "
                    "Cannot rescue a volume-backed instance"
                )
        elif not image_ref:
            raise BadRequest(f"Instance {server_id} cannot be rescued: it has no image")
        else:
            self.servers.image(ctx, image_ref)
        instance = self._begin(ctx, server_id, "rescue", "os-rescue")
        assert instance.host is not None
        agents = self.core.rpc.agents
        self._send(
            instance,
            agents.rescue_instance(instance.host, instance.id, ctx.request_id, image_ref),
        )

    def unrescue(self, ctx: RequestContext, server_id: str) -> None:
        instance = self._begin(ctx, server_id, "unrescue", "os-unrescue")
        assert instance.host is not None
        agents = self.core.rpc.agents
        self._send(instance, agents.unrescue_instance(instance.host, instance.id, ctx.request_id))

    def rebuild(
        self, ctx: RequestContext, server_id: str, image_ref: str, changes: dict[str, Any]
    ) -> Instance:
        image = self.servers.image(ctx, image_ref)
        with self.db.reader() as session:
            current = self.core.instance(session, ctx, server_id)
            flavor = Flavor(**{k: current.flavor.get(k, 0) for k in ("vcpus", "ram", "disk")})
        check_image_fits(image, flavor)
        if self.attachments.is_volume_backed(server_id):
            raise NotSupported(operation="Rebuilding volume-backed servers")
        if "key_name" in changes and changes["key_name"] is not None:
            keypair = self.keypairs.lookup(ctx.user_id or "", changes["key_name"])
            if keypair is None:
                raise BadRequest("Invalid key_name provided.")
            changes["key_data"] = keypair.public_key
        elif "key_name" in changes:
            changes["key_data"] = None
        self._begin(ctx, server_id, "rebuild", "servers:rebuild")
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            touch(instance, image_ref=image.id, **changes)
        self._cast(ctx, instance, "rebuild")
        return instance

    def resize(
        self,
        ctx: RequestContext,
        server_id: str,
        flavor_ref: str,
        auto_disk_config: bool | None = None,
    ) -> None:
        with self.db.writer() as session:
            try:
                flavor = visible(session, ctx, flavor_ref)
            except FlavorNotFound:
                raise BadRequest(f"Unable to find flavor {flavor_ref}") from None
            current = self.core.instance(session, ctx, server_id)
            if current.flavor_id == flavor.id:
                raise BadRequest("When resizing, instances must change flavor!")
            if flavor.disk < current.root_gb and flavor.disk != 0:
                raise BadRequest("Resize error: Unable to resize disk down.")
            deltas = {"cores": flavor.vcpus - current.vcpus, "ram": flavor.ram - current.memory_mb}
            self.core.quota.check(session, current.project_id, deltas)
        instance = self._begin(ctx, server_id, "resize", "servers:resize")
        new = flavor_snapshot(flavor)
        with self.db.writer() as session:
            row = self.core.instance(session, ctx, server_id)
            record_resize(session, row, flavor.id, ctx.user_id)
            extra = {} if auto_disk_config is None else {"auto_disk_config": auto_disk_config}
            set_flavor(row, new, old_flavor=row.flavor, **extra)
        conductor = self.core.rpc.conductor
        self._send(instance, conductor.resize_instance(instance.id, new, ctx.request_id))

    def confirm_or_revert(self, ctx: RequestContext, server_id: str, action: str) -> None:
        rule = "servers:confirm_resize" if action == "confirmResize" else "servers:revert_resize"
        instance = self._begin(ctx, server_id, action, rule)
        step = "confirming" if action == "confirmResize" else "reverting"
        advance_in(self.db, instance.id, step)
        self._cast(ctx, instance, action)

    def lock(self, ctx: RequestContext, server_id: str, reason: str | None) -> None:
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "os-lock-server:lock", instance.project_id)
            touch(
                instance,
                locked=True,
                locked_by="admin" if ctx.is_admin else "owner",
                locked_reason=reason,
            )
            start_action(session, instance, "lock", ctx.request_id, ctx.user_id, ctx.project_id)

    def unlock(self, ctx: RequestContext, server_id: str) -> None:
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "os-lock-server:unlock", instance.project_id)
            if instance.locked and instance.locked_by == "admin" and not ctx.is_admin:
                self.core.enforce(ctx, "os-lock-server:unlock:unlock_override", instance.project_id)
            touch(instance, locked=False, locked_by=None, locked_reason=None)
            start_action(session, instance, "unlock", ctx.request_id, ctx.user_id, ctx.project_id)

    def reset_state(self, ctx: RequestContext, server_id: str, state: str) -> None:
        self.core.enforcer.enforce(ctx, "os_compute_api:os-extended-server-attributes")
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            touch(
                instance,
                vm_state=states.ERROR if state == "error" else states.ACTIVE,
                task_state=None,
            )

    def create_backup(
        self,
        ctx: RequestContext,
        server_id: str,
        name: str,
        backup_type: str,
        rotation: int,
        metadata: dict[str, str],
    ) -> str:
        """An image of the server with ``image_type`` backup and its ``backup_type``;
        then only the newest ``rotation`` backups of that type are kept (Nova's
        rotation: 0 deletes them all, the new one included)."""
        with self.db.reader() as session:
            current = self.core.instance(session, ctx, server_id)
        self.core.enforce(ctx, "os-create-backup", current.project_id)
        if self.attachments.is_volume_backed(server_id):
            raise BadRequest("Backup is not supported for volume-backed instances.")
        properties = {**metadata, "image_type": "backup", "backup_type": backup_type}
        image_id = self.create_image(
            ctx, server_id, name, properties, "createBackup", "os-create-backup"
        )
        images = self.core.neighbours.image
        if images is None:
            return image_id
        query = [
            ("instance_uuid", server_id),
            ("image_type", "backup"),
            ("backup_type", backup_type),
            ("sort_key", "created_at"),
            ("sort_dir", "desc"),
        ]
        backups = images.list_images(ctx, query)
        for old in backups[rotation:]:
            try:
                images.delete_image(ctx, old.id)
            except OneStackError:
                LOG.exception("could not delete the rotated backup %s", old.id)
        return image_id

    def create_image(
        self,
        ctx: RequestContext,
        server_id: str,
        name: str,
        metadata: dict[str, str],
        action: str = "createImage",
        rule: str = "servers:create_image",
    ) -> str:
        """The new image's id once the agent uploaded the server's disk."""
        instance = self._begin(ctx, server_id, action, rule)
        assert instance.host is not None
        request = SnapshotRequest(
            request_id=ctx.request_id,
            name=name,
            metadata=dict(metadata),
            user_id=ctx.user_id or "",
            project_id=instance.project_id,
        )
        try:
            return self.core.call(
                self.core.rpc.agents.snapshot_instance(instance.host, instance.id, request),
                timeout=SNAPSHOT_TIMEOUT + 5,
            )
        finally:
            with self.db.writer() as session:
                row = session.get(Instance, server_id)
                if row is not None and row.task_state in (
                    states.IMAGE_SNAPSHOT,
                    states.IMAGE_BACKUP,
                ):
                    touch(row, task_state=None)

    def shelve(self, ctx: RequestContext, server_id: str) -> None:
        """Stop the server and save its root disk as ``<name>-shelved`` (a volume-backed
        server: no image), then offload it at once (Nova's ``shelved_offload_time`` 0)."""
        volume_backed = self.attachments.is_volume_backed(server_id)
        if volume_backed:  # no snapshot: the driver need not be able to make one
            instance = self._begin_unchecked(ctx, server_id, "shelve", "os-shelve:shelve")
        else:
            instance = self._begin(ctx, server_id, "shelve", "os-shelve:shelve")
        assert instance.host is not None
        request = SnapshotRequest(
            request_id=ctx.request_id,
            name="" if volume_backed else f"{instance.name}-shelved",
            metadata={},
            user_id=ctx.user_id or "",
            project_id=instance.project_id,
        )
        agents = self.core.rpc.agents
        self._send(instance, agents.shelve_instance(instance.host, instance.id, request, True))

    def shelve_offload(self, ctx: RequestContext, server_id: str) -> None:
        instance = self._begin(ctx, server_id, "shelveOffload", "os-shelve:shelve_offload")
        assert instance.host is not None
        agents = self.core.rpc.agents
        self._send(
            instance, agents.shelve_offload_instance(instance.host, instance.id, ctx.request_id)
        )

    def unshelve(
        self, ctx: RequestContext, server_id: str, zone: str | None, host: str | None
    ) -> None:
        """Start a SHELVED server again on its host, or place a SHELVED_OFFLOADED one like
        a new build (``zone``: in that availability zone; ``host``: on that host)."""
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "os-shelve:unshelve", instance.project_id)
            if host is not None:
                self.core.enforce(ctx, "os-shelve:unshelve_to_host", instance.project_id)
            if instance.locked and not ctx.is_admin:
                raise InstanceLocked(instance_id=instance.id)
            if instance.vm_state not in states.ALLOWED["unshelve"] or instance.task_state:
                attr = "task_state" if instance.task_state else "vm_state"
                raise InvalidState(
                    action="unshelve",
                    instance_id=server_id,
                    attr=attr,
                    state=instance.task_state or instance.vm_state,
                )
            offloaded = instance.vm_state == states.SHELVED_OFFLOADED
            if (zone is not None or host is not None) and not offloaded:
                raise Conflict(
                    f"The unshelve action failed: instance {server_id} is not shelved "
                    "offloaded, so no availability zone or host can be given."
                )
            if host is not None:
                known = session.scalar(
                    select(func.count()).where(
                        ComputeService.host == host, ComputeService.binary == "nova-compute"
                    )
                )
                if not known:
                    raise BadRequest(f"Compute host {host} could not be found.")
            changes: dict[str, Any] = {"task_state": states.UNSHELVING}
            if zone is not None:
                changes["requested_az"] = zone
            if host is not None:
                changes["scheduler_hints"] = {
                    **(instance.scheduler_hints or {}),
                    "_force_host": host,
                }
            touch(instance, **changes)
            start_action(session, instance, "unshelve", ctx.request_id, ctx.user_id, ctx.project_id)
        if offloaded:
            conductor = self.core.rpc.conductor
            self._send(instance, conductor.unshelve_instance(instance.id, ctx.request_id))
        else:
            assert instance.host is not None
            agents = self.core.rpc.agents
            self._send(
                instance, agents.unshelve_instance(instance.host, instance.id, ctx.request_id)
            )

    def console_output(self, ctx: RequestContext, server_id: str, length: int | None) -> str:
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "os-console-output", instance.project_id)
            if instance.host is None:
                raise Conflict(f"Instance {server_id} is not ready yet.")
            self.core.require(session, instance, "console_output", "Showing the console output")
        agents = self.core.rpc.agents
        return self.core.call(agents.get_console_output(instance.host, server_id, length))
