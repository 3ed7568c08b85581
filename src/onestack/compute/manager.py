"""Servers: the compute service's logic and its public Python interface.

Create validates the image, flavor, key pair, availability zone and server
group, checks quota and writes the instances in one transaction, then casts
the build to the conductor.  Every later action checks policy, the lock and
the vm_state (409 otherwise), sets the task_state and records an instance
action in one transaction before casting to the instance's agent.  Nothing
here touches a driver or builds an HTTP response.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.exceptions import BadRequest, Conflict, NotFound, NotSupported, OneStackError
from onestack.common.policy import Enforcer
from onestack.compute import states
from onestack.compute.bdm import plan_boot
from onestack.compute.conf import ComputeSettings
from onestack.compute.exceptions import (
    ActionNotFound,
    FlavorNotFound,
    FlavorTooSmall,
    InstanceLocked,
    InvalidState,
    ServerGroupNotFound,
)
from onestack.compute.flavors import visible
from onestack.compute.instances import (
    add_fault,
    get_instance,
    latest_fault,
    mark_deleted,
    start_action,
    touch,
)
from onestack.compute.keypairs import KeypairManager
from onestack.compute.models import (
    ComputeService,
    Flavor,
    Instance,
    InstanceAction,
    InstanceActionEvent,
    InstanceFault,
    ServerGroup,
)
from onestack.compute.quotas import engine
from onestack.compute.rpcapi import AgentAPI, ConductorAPI, LoopBridge
from onestack.compute.states import PowerState

if TYPE_CHECKING:
    from onestack.compute.volumes import VolumeAttachmentManager


@dataclass(frozen=True)
class ServerRequest:
    name: str
    image_ref: str
    flavor_ref: str
    key_name: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    min_count: int = 1
    max_count: int = 1
    availability_zone: str | None = None
    security_groups: tuple[str, ...] = ("default",)
    networks: Any = "none"
    group: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    description: str | None = None
    hostname: str | None = None
    admin_pass: str | None = None
    access_ipv4: str = ""
    access_ipv6: str = ""
    config_drive: bool = False
    auto_disk_config: bool = False
    #: block_device_mapping_v2 as the API received it
    block_devices: tuple[Any, ...] = ()


_HOSTNAME_BAD = re.compile(r"[^a-z0-9-]+")


def sanitize_hostname(name: str) -> str:
    """Nova's rule: lower case, letters/digits/dashes, at most 63 characters."""
    host = _HOSTNAME_BAD.sub("-", name.lower().replace("_", "-").replace(" ", "-"))
    host = host.strip("-.")[:63].strip("-")
    return host or "server"


class ServerManager:
    def __init__(
        self,
        db: Database,
        enforcer: Enforcer,
        settings: ComputeSettings,
        keypairs: KeypairManager,
        bridge: LoopBridge,
        conductor: ConductorAPI,
        agents: AgentAPI,
        images: Any,
    ) -> None:
        self.db = db
        self.enforcer = enforcer
        self.settings = settings
        self.keypairs = keypairs
        self.bridge = bridge
        self.conductor = conductor
        self.agents = agents
        self.images = images
        self.quota = engine()
        #: volume attachments (set by the service; boot from volume, delete)
        self.block: VolumeAttachmentManager | None = None
        #: the network service (``onestack.network.interface.NetworkService``) when it runs
        self.network: Any = None

    def _enforce(self, ctx: RequestContext, rule: str, project_id: str | None) -> None:
        self.enforcer.enforce(
            ctx, f"os_compute_api:{rule}", {"project_id": project_id, "user_id": ctx.user_id}
        )

    # -- create ----------------------------------------------------------------

    def _image(self, ctx: RequestContext, image_ref: str) -> Any:
        if self.images is None:
            raise BadRequest(f"Image {image_ref} could not be found.")
        try:
            image = self.images.get_image(ctx, image_ref)
        except NotFound:
            raise BadRequest(f"Image {image_ref} could not be found.") from None
        if image.status != "active":
            raise BadRequest(f"Image {image_ref} is not active.")
        return image

    def create(self, ctx: RequestContext, req: ServerRequest) -> tuple[list[Instance], str]:
        self._enforce(ctx, "servers:create", ctx.project_id)
        if req.min_count > req.max_count:
            raise BadRequest("min_count must be <= max_count")
        boot = None
        if req.block_devices or not req.image_ref:
            service = self.block.service() if self.block is not None else None
            boot = plan_boot(
                ctx,
                req.block_devices,
                req.image_ref,
                lambda r: self._image(ctx, r),
                service,
                req.max_count,
            )
        image = boot.image if boot is not None else self._image(ctx, req.image_ref)
        admin_pass = req.admin_pass or secrets.token_urlsafe(9)
        key_data = None
        if req.key_name is not None:
            keypair = self.keypairs.lookup(ctx.user_id or "", req.key_name)
            if keypair is None:
                raise BadRequest("Invalid key_name provided.")
            key_data = keypair.public_key
        if self.network is not None and req.security_groups:
            missing = self.network.missing_security_groups(ctx, list(req.security_groups))
            if missing:
                raise BadRequest(f"Unable to find security_group with name or uuid {missing[0]}")
        reservation_id = f"r-{uuid.uuid4().hex[:8]}"
        project_id = ctx.project_id or ""
        with self.db.writer() as session:
            try:
                flavor = visible(session, ctx, req.flavor_ref)
            except FlavorNotFound:
                raise BadRequest("Invalid flavorRef provided.") from None
            if flavor.disabled:
                raise BadRequest(f"Flavor {flavor.id} is disabled.")
            _check_image_fits(image, flavor)
            zone, forced_host = self._zone(ctx, session, req.availability_zone)
            group = self._group(ctx, session, req.group)
            limits = self.quota.limits(session, project_id)
            if 0 <= limits["metadata_items"] < len(req.metadata):
                raise self.quota._exceeded(
                    resource="metadata_items",
                    requested=len(req.metadata),
                    used=0,
                    limit=limits["metadata_items"],
                )
            count = self._count_allowed(session, project_id, flavor, req)
            if group is not None:
                limit = limits["server_group_members"]
                if 0 <= limit < len(group.members) + count:
                    raise self.quota._exceeded(
                        resource="server_group_members",
                        requested=count,
                        used=len(group.members),
                        limit=limit,
                    )
            flavor_doc = flavor_snapshot(flavor)
            created = []
            now = utcnow()
            for index in range(count):
                name = req.name if count == 1 else f"{req.name}-{index + 1}"
                hostname = req.hostname or sanitize_hostname(name)
                instance = Instance(
                    id=str(uuid.uuid4()),
                    name=name,
                    project_id=project_id,
                    user_id=ctx.user_id or "",
                    hostname=hostname,
                    description=req.description,
                    image_ref=image.id,
                    flavor=flavor_doc,
                    flavor_id=flavor.id,
                    vcpus=flavor.vcpus,
                    memory_mb=flavor.ram,
                    root_gb=flavor.disk,
                    vm_state=states.BUILDING,
                    task_state=states.SCHEDULING,
                    power_state=PowerState.NOSTATE,
                    requested_az=zone,
                    availability_zone=zone,
                    key_name=req.key_name,
                    key_data=key_data,
                    user_data=req.user_data,
                    meta=dict(req.metadata),
                    tags=list(dict.fromkeys(req.tags)),
                    security_groups=list(req.security_groups),
                    networks=req.networks,
                    scheduler_hints=dict(
                        req.hints, **({"_force_host": forced_host} if forced_host else {})
                    ),
                    server_group_id=group.id if group is not None else None,
                    config_drive="True" if req.config_drive else "",
                    auto_disk_config=req.auto_disk_config,
                    access_ip_v4=req.access_ipv4,
                    access_ip_v6=req.access_ipv6,
                    reservation_id=reservation_id,
                    launch_index=index,
                    created_at=now,
                    updated_at=now,
                )
                session.add(instance)
                session.flush()
                if boot is not None:
                    boot.record(session, instance)
                start_action(session, instance, "create", ctx.request_id, ctx.user_id, project_id)
                created.append(instance)
            if group is not None:
                group.members = [*group.members, *(i.id for i in created)]
        ids = [i.id for i in created]
        try:
            self.bridge.run(self.conductor.build_instances(ids, ctx.request_id))
        except OneStackError as exc:
            with self.db.writer() as session:
                for instance_id in ids:
                    row = session.get(Instance, instance_id)
                    if row is not None:
                        touch(row, vm_state=states.ERROR, task_state=None)
                        add_fault(session, instance_id, exc, None)
        return created, admin_pass

    def _count_allowed(
        self, session: Session, project_id: str, flavor: Flavor, req: ServerRequest
    ) -> int:
        """As many instances as quota allows up to max_count; 403 below min_count."""
        usage = self.quota.usage(session, project_id)
        self.quota._lock(session, project_id)
        per = {"instances": 1, "cores": flavor.vcpus, "ram": flavor.ram}
        allowed = req.max_count
        for name, size in per.items():
            limit = usage[name].limit
            if limit < 0 or size <= 0:
                continue
            room = (limit - usage[name].in_use) // size
            allowed = min(allowed, room)
        if allowed < req.min_count:
            for name, size in per.items():
                u = usage[name]
                if u.limit >= 0 and u.in_use + size * req.min_count > u.limit:
                    raise self.quota._exceeded(
                        resource=name,
                        requested=size * req.min_count,
                        used=u.in_use,
                        limit=u.limit,
                    )
        return allowed

    def _zone(
        self, ctx: RequestContext, session: Session, requested: str | None
    ) -> tuple[str | None, str | None]:
        if not requested:
            return None, None
        zone, _, host = requested.partition(":")
        if host:
            self._enforce(ctx, "servers:create:forced_host", ctx.project_id)
        zones = set(
            session.scalars(
                select(ComputeService.zone).where(ComputeService.binary == "nova-compute")
            )
        )
        if zone and zone not in zones:
            raise BadRequest("The requested availability zone is not available")
        return zone or None, host or None

    def _group(self, ctx: RequestContext, session: Session, group_id: str | None) -> Any:
        if group_id is None:
            return None
        group = session.get(ServerGroup, group_id)
        if group is None or (group.project_id != ctx.project_id and not ctx.is_admin):
            raise BadRequest(ServerGroupNotFound(group_id=group_id).message)
        return group

    # -- read ------------------------------------------------------------------

    def get(self, ctx: RequestContext, server_id: str) -> Instance:
        with self.db.reader() as session:
            instance = get_instance(session, ctx, server_id)
        self._enforce(ctx, "servers:show", instance.project_id)
        return instance

    # -- update, delete --------------------------------------------------------

    def update(self, ctx: RequestContext, server_id: str, changes: dict[str, Any]) -> Instance:
        with self.db.writer() as session:
            instance = get_instance(session, ctx, server_id)
            self._enforce(ctx, "servers:update", instance.project_id)
            if "name" in changes and "hostname" not in changes:
                pass  # Nova keeps the hostname when the name changes
            touch(instance, **changes)
            return instance

    def delete(self, ctx: RequestContext, server_id: str, force: bool = False) -> None:
        with self.db.writer() as session:
            instance = get_instance(session, ctx, server_id)
            self._enforce(
                ctx,
                "os-admin-actions:force_delete" if force else "servers:delete",
                instance.project_id,
            )
            self._check_lock(ctx, instance)
            start_action(session, instance, "delete", ctx.request_id, ctx.user_id, ctx.project_id)
            host = instance.host
            if host is None or not self._host_up(session, host):
                mark_deleted(session, instance)
                host = None
            else:
                touch(instance, task_state=states.DELETING)
        if host is not None:
            self.bridge.run(self.agents.run_action(host, server_id, "delete", ctx.request_id))
        elif self.block is not None:
            self.block.release_if_deleted(server_id)

    def _host_up(self, session: Session, host: str) -> bool:
        from datetime import timedelta

        service = session.scalars(
            select(ComputeService).where(
                ComputeService.host == host, ComputeService.binary == "nova-compute"
            )
        ).first()
        if service is None or service.forced_down:
            return False
        cutoff = utcnow() - timedelta(seconds=self.settings.service_down_time)
        return service.updated_at >= cutoff

    # -- actions ---------------------------------------------------------------

    def _check_lock(self, ctx: RequestContext, instance: Instance) -> None:
        if instance.locked and not ctx.is_admin:
            raise InstanceLocked(instance_id=instance.id)

    def _begin(self, ctx: RequestContext, server_id: str, action: str, rule: str) -> Instance:
        """Check policy, lock and state; set the task_state; record the action."""
        with self.db.writer() as session:
            instance = get_instance(session, ctx, server_id)
            self._enforce(ctx, rule, instance.project_id)
            self._check_lock(ctx, instance)
            allowed = states.ALLOWED[action]
            if instance.vm_state not in allowed:
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
            task = states.TASK_OF.get(action)
            touch(instance, task_state=task)
            start_action(
                session,
                instance,
                states.ACTION_NAME[action],
                ctx.request_id,
                ctx.user_id,
                ctx.project_id,
            )
            return instance

    def _cast(self, ctx: RequestContext, instance: Instance, action: str, **params: Any) -> None:
        assert instance.host is not None
        try:
            self.bridge.run(
                self.agents.run_action(instance.host, instance.id, action, ctx.request_id, **params)
            )
        except OneStackError:
            with self.db.writer() as session:
                row = session.get(Instance, instance.id)
                if row is not None:
                    touch(row, task_state=None)
            raise

    def simple_action(self, ctx: RequestContext, server_id: str, action: str, rule: str) -> None:
        """stop, start, pause, unpause, suspend, resume."""
        instance = self._begin(ctx, server_id, action, rule)
        self._cast(ctx, instance, action)

    def reboot(self, ctx: RequestContext, server_id: str, hard: bool) -> None:
        with self.db.reader() as session:
            current = get_instance(session, ctx, server_id)
        if not hard and current.vm_state != states.ACTIVE:
            raise InvalidState(
                action="reboot", instance_id=server_id, attr="vm_state", state=current.vm_state
            )
        instance = self._begin(ctx, server_id, "reboot", "servers:reboot")
        with self.db.writer() as session:
            row = session.get(Instance, server_id)
            if row is not None:
                touch(row, task_state=states.REBOOTING_HARD if hard else states.REBOOTING)
        self._cast(ctx, instance, "reboot", hard=hard)

    def rebuild(
        self, ctx: RequestContext, server_id: str, image_ref: str, changes: dict[str, Any]
    ) -> Instance:
        image = self._image(ctx, image_ref)
        with self.db.reader() as session:
            current = get_instance(session, ctx, server_id)
            flavor = Flavor(**{k: current.flavor.get(k, 0) for k in ("vcpus", "ram", "disk")})
        _check_image_fits(image, flavor)
        if self.block is not None and self.block.is_volume_backed(server_id):
            raise NotSupported(operation="Rebuilding volume-backed servers")
        if "key_name" in changes and changes["key_name"] is not None:
            keypair = self.keypairs.lookup(ctx.user_id or "", changes["key_name"])
            if keypair is None:
                raise BadRequest("Invalid key_name provided.")
            changes["key_data"] = keypair.public_key
        elif "key_name" in changes:
            changes["key_data"] = None
        instance = self._begin(ctx, server_id, "rebuild", "servers:rebuild")
        with self.db.writer() as session:
            row = get_instance(session, ctx, server_id)
            touch(row, image_ref=image.id, **changes)
            instance = row
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
            current = get_instance(session, ctx, server_id)
            if current.flavor_id == flavor.id:
                raise BadRequest("When resizing, instances must change flavor!")
            if flavor.disk < current.root_gb and flavor.disk != 0:
                raise BadRequest("Resize error: Unable to resize disk down.")
            deltas = {"cores": flavor.vcpus - current.vcpus, "ram": flavor.ram - current.memory_mb}
            self.quota.check(session, current.project_id, deltas)
        instance = self._begin(ctx, server_id, "resize", "servers:resize")
        new = flavor_snapshot(flavor)
        with self.db.writer() as session:
            row = get_instance(session, ctx, server_id)
            touch(
                row,
                old_flavor=row.flavor,
                flavor=new,
                flavor_id=flavor.id,
                vcpus=flavor.vcpus,
                memory_mb=flavor.ram,
                root_gb=flavor.disk,
                **({} if auto_disk_config is None else {"auto_disk_config": auto_disk_config}),
            )
        self.bridge.run(self.conductor.resize_instance(instance.id, new, ctx.request_id))

    def confirm_or_revert(self, ctx: RequestContext, server_id: str, action: str) -> None:
        rule = "servers:confirm_resize" if action == "confirmResize" else "servers:revert_resize"
        instance = self._begin(ctx, server_id, action, rule)
        self._cast(ctx, instance, action)

    def lock(self, ctx: RequestContext, server_id: str, reason: str | None) -> None:
        with self.db.writer() as session:
            instance = get_instance(session, ctx, server_id)
            self._enforce(ctx, "os-lock-server:lock", instance.project_id)
            touch(
                instance,
                locked=True,
                locked_by="admin" if ctx.is_admin else "owner",
                locked_reason=reason,
            )
            start_action(session, instance, "lock", ctx.request_id, ctx.user_id, ctx.project_id)

    def unlock(self, ctx: RequestContext, server_id: str) -> None:
        with self.db.writer() as session:
            instance = get_instance(session, ctx, server_id)
            self._enforce(ctx, "os-lock-server:unlock", instance.project_id)
            if instance.locked and instance.locked_by == "admin" and not ctx.is_admin:
                self._enforce(ctx, "os-lock-server:unlock:unlock_override", instance.project_id)
            touch(instance, locked=False, locked_by=None, locked_reason=None)
            start_action(session, instance, "unlock", ctx.request_id, ctx.user_id, ctx.project_id)

    def reset_state(self, ctx: RequestContext, server_id: str, state: str) -> None:
        self.enforcer.enforce(ctx, "os_compute_api:os-extended-server-attributes")
        with self.db.writer() as session:
            instance = get_instance(session, ctx, server_id)
            touch(
                instance,
                vm_state=states.ERROR if state == "error" else states.ACTIVE,
                task_state=None,
            )

    def create_image(
        self, ctx: RequestContext, server_id: str, name: str, metadata: dict[str, str]
    ) -> str:
        instance = self._begin(ctx, server_id, "createImage", "servers:create_image")
        assert instance.host is not None
        try:
            return self.bridge.run(
                self.agents.snapshot_instance(
                    instance.host,
                    instance.id,
                    ctx.request_id,
                    name,
                    metadata,
                    ctx.user_id or "",
                    instance.project_id,
                ),
                timeout=600,
            )
        finally:
            with self.db.writer() as session:
                row = session.get(Instance, server_id)
                if row is not None and row.task_state == states.IMAGE_SNAPSHOT:
                    touch(row, task_state=None)

    def console_output(self, ctx: RequestContext, server_id: str, length: int | None) -> str:
        with self.db.reader() as session:
            instance = get_instance(session, ctx, server_id)
        self._enforce(ctx, "os-console-output", instance.project_id)
        if instance.host is None or (instance.vm_state == states.BUILDING and not instance.host):
            raise Conflict(f"Instance {server_id} is not ready yet.")
        return self.bridge.run(self.agents.console_output(instance.host, server_id, length))

    # -- instance actions ------------------------------------------------------

    def actions(self, ctx: RequestContext, server_id: str) -> list[InstanceAction]:
        """The server's instance actions, newest first (also for deleted servers)."""
        with self.db.reader() as session:
            instance = get_instance(session, ctx, server_id, deleted=True)
            self._enforce(ctx, "os-instance-actions:list", instance.project_id)
            stmt = (
                select(InstanceAction)
                .where(InstanceAction.instance_id == server_id)
                .order_by(InstanceAction.start_time.desc(), InstanceAction.id.desc())
            )
            return list(session.scalars(stmt))

    def action(
        self, ctx: RequestContext, server_id: str, request_id: str
    ) -> tuple[InstanceAction, list[InstanceActionEvent]]:
        with self.db.reader() as session:
            instance = get_instance(session, ctx, server_id, deleted=True)
            self._enforce(ctx, "os-instance-actions:show", instance.project_id)
            record = session.scalars(
                select(InstanceAction).where(
                    InstanceAction.instance_id == server_id,
                    InstanceAction.request_id == request_id,
                )
            ).first()
            if record is None:
                raise ActionNotFound(request_id=request_id)
            events = session.scalars(
                select(InstanceActionEvent)
                .where(InstanceActionEvent.action_id == record.id)
                .order_by(InstanceActionEvent.start_time.desc())
            )
            return record, list(events)

    def fault(self, instance: Instance) -> InstanceFault | None:
        with self.db.reader() as session:
            return latest_fault(session, instance.id)

    # -- metadata and tags -----------------------------------------------------

    def set_metadata(
        self, ctx: RequestContext, server_id: str, items: dict[str, str], replace: bool
    ) -> dict[str, str]:
        with self.db.writer() as session:
            instance = get_instance(session, ctx, server_id)
            self._enforce(ctx, "server-metadata:update", instance.project_id)
            self._check_lock(ctx, instance)
            merged = dict(items) if replace else {**(instance.meta or {}), **items}
            limit = self.quota.limits(session, instance.project_id)["metadata_items"]
            if 0 <= limit < len(merged):
                raise self.quota._exceeded(
                    resource="metadata_items", requested=len(merged), used=0, limit=limit
                )
            touch(instance, meta=merged)
            return merged

    def delete_metadata(self, ctx: RequestContext, server_id: str, key: str) -> None:
        from onestack.compute.exceptions import MetadataItemNotFound

        with self.db.writer() as session:
            instance = get_instance(session, ctx, server_id)
            self._enforce(ctx, "server-metadata:update", instance.project_id)
            self._check_lock(ctx, instance)
            meta = dict(instance.meta or {})
            if key not in meta:
                raise MetadataItemNotFound()
            del meta[key]
            touch(instance, meta=meta)

    def set_tags(
        self,
        ctx: RequestContext,
        server_id: str,
        tags: Sequence[str] | None,
        add: str | None = None,
        remove: str | None = None,
    ) -> list[str]:
        from onestack.compute.exceptions import TagNotFound

        with self.db.writer() as session:
            instance = get_instance(session, ctx, server_id)
            self._enforce(ctx, "os-server-tags:update", instance.project_id)
            current = list(instance.tags or [])
            if tags is not None:
                current = list(dict.fromkeys(tags))
            if add is not None and add not in current:
                current.append(add)
            if remove is not None:
                if remove not in current:
                    raise TagNotFound(tag=remove)
                current.remove(remove)
            if len(current) > 50:
                raise BadRequest("The number of tags exceeded the per-server limit 50")
            touch(instance, tags=current)
            return current


def flavor_snapshot(flavor: Flavor) -> dict[str, Any]:
    return {
        "id": flavor.id,
        "name": flavor.name,
        "vcpus": flavor.vcpus,
        "ram": flavor.ram,
        "disk": flavor.disk,
        "ephemeral": flavor.ephemeral,
        "swap": flavor.swap,
        "extra_specs": dict(flavor.extra_specs or {}),
    }


def _check_image_fits(image: Any, flavor: Flavor) -> None:
    gib = 1024**3
    if image.min_ram and flavor.ram < image.min_ram:
        raise FlavorTooSmall(what="Flavor's memory")
    if flavor.disk:
        if image.min_disk and flavor.disk < image.min_disk:
            raise BadRequest(
                "Flavor's disk is too small for requested image. Flavor disk is "
                f"{flavor.disk * gib} bytes, minimum size is {image.min_disk * gib} bytes."
            )
        if image.size and image.size > flavor.disk * gib:
            raise BadRequest(
                "Flavor's disk is too small for requested image. Flavor disk is "
                f"{flavor.disk * gib} bytes, image is {image.size} bytes."
            )
