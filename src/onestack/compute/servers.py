"""Servers: create, read, update, delete, metadata, tags and instance actions.

Create validates the image, flavor, key pair, availability zone, server
group, requested networks and volumes, checks quota and writes the
instances in one transaction, then casts the build to the conductor.
Reads come with what the API renders beside each server (its fault, its
host's state, its image's properties, its addresses and volumes), fetched
once per page.  Nothing here touches a driver or builds an HTTP response.
Server actions are in ``server_actions``.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import (
    BadRequest,
    Conflict,
    NotFound,
    OneStackError,
)
from onestack.compute import netinfo, states
from onestack.compute.aggregates import available_zones
from onestack.compute.bdm import plan_boot
from onestack.compute.exceptions import (
    ActionNotFound,
    FlavorNotFound,
    FlavorTooSmall,
    InstanceLocked,
    MetadataItemNotFound,
    QuotaExceeded,
    ServerGroupNotFound,
    TagNotFound,
)
from onestack.compute.flavors import visible
from onestack.compute.instances import add_fault, mark_deleted, start_action, touch
from onestack.compute.models import (
    Flavor,
    Instance,
    InstanceAction,
    InstanceActionEvent,
    InstanceFault,
    ServerGroup,
)
from onestack.compute.states import PowerState

LOG = logging.getLogger(__name__)

if TYPE_CHECKING:
    from onestack.compute.attachments import VolumeAttachmentManager
    from onestack.compute.core import ComputeCore
    from onestack.compute.keypairs import KeypairManager
    from onestack.image.interface import ImageRecord
    from onestack.network.interface import Addresses


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
    #: "none", "auto", or entries {"uuid"|"port", "fixed_ip"} (shape checked by the API)
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


@dataclass(frozen=True)
class ServerDetails:
    """One server with what the API shows beside it."""

    instance: Instance
    fault: InstanceFault | None = None
    #: whether its host is up (asked for: admins from 2.16)
    host_up: bool | None = None
    #: its image's properties (asked for: 2.98 on)
    image_properties: dict[str, str] | None = None
    addresses: Addresses = field(default_factory=dict)
    #: (volume id, delete_on_termination) of each attached volume, root first
    volumes: list[tuple[str, bool]] = field(default_factory=list)


def sanitize_hostname(name: str) -> str:
    """Nova's rule: lower case, letters/digits/dashes, at most 63 characters."""
    host = _HOSTNAME_BAD.sub("-", name.lower().replace("_", "-").replace(" ", "-"))
    host = host.strip("-.")[:63].strip("-")
    return host or "server"


class ServerManager:
    def __init__(
        self,
        core: ComputeCore,
        keypairs: KeypairManager,
        attachments: VolumeAttachmentManager,
    ) -> None:
        self.core = core
        self.db = core.db
        self.keypairs = keypairs
        self.attachments = attachments
        self.quota = core.quota

    # -- create ----------------------------------------------------------------

    def image(self, ctx: RequestContext, image_ref: str) -> ImageRecord:
        """The active image ``image_ref`` as the caller sees it (400 otherwise)."""
        images = self.core.neighbours.image
        if images is None:
            raise BadRequest(f"Image {image_ref} could not be found.")
        try:
            image = images.get_image(ctx, image_ref)
        except NotFound:
            raise BadRequest(f"Image {image_ref} could not be found.") from None
        if image.status != "active":
            raise BadRequest(f"Image {image_ref} is not active.")
        return image

    def create(self, ctx: RequestContext, req: ServerRequest) -> tuple[list[Instance], str]:
        self.core.enforce(ctx, "servers:create", ctx.project_id)
        if req.min_count > req.max_count:
            raise BadRequest("min_count must be <= max_count")
        networks = self._networks(ctx, req.networks)
        boot = None
        if req.block_devices or not req.image_ref:
            boot = plan_boot(
                ctx,
                req.block_devices,
                req.image_ref,
                lambda r: self.image(ctx, r),
                self.core.neighbours.volume,
                req.max_count,
            )
        image = boot.image if boot is not None else self.image(ctx, req.image_ref)
        admin_pass = req.admin_pass or secrets.token_urlsafe(9)
        key_data = None
        if req.key_name is not None:
            keypair = self.keypairs.lookup(ctx.user_id or "", req.key_name)
            if keypair is None:
                raise BadRequest("Invalid key_name provided.")
            key_data = keypair.public_key
        network = self.core.neighbours.network
        if network is not None and req.security_groups:
            missing = network.missing_security_groups(ctx, list(req.security_groups))
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
            check_image_fits(image, flavor)
            zone, forced_host = self._zone(ctx, session, req.availability_zone)
            group = self._group(ctx, session, req.group)
            limits = self.quota.limits(session, project_id)
            if 0 <= limits["metadata_items"] < len(req.metadata):
                raise QuotaExceeded(
                    resource="metadata_items",
                    requested=len(req.metadata),
                    used=0,
                    limit=limits["metadata_items"],
                )
            count = self._count_allowed(session, project_id, flavor, req)
            if group is not None:
                limit = limits["server_group_members"]
                if 0 <= limit < len(group.members) + count:
                    raise QuotaExceeded(
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
                    power_state=int(PowerState.NOSTATE),
                    requested_az=zone,
                    availability_zone=zone,
                    key_name=req.key_name,
                    key_data=key_data,
                    user_data=req.user_data,
                    meta=dict(req.metadata),
                    tags=list(dict.fromkeys(req.tags)),
                    security_groups=list(req.security_groups),
                    networks=networks,
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
            self.core.call(self.core.rpc.conductor.build_instances(ids, ctx.request_id))
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
        """As many instances as quota allows up to max_count; 403 below min_count.

        The count is checked again under the project's quota lock (``check``), so
        concurrent creates never exceed a limit together.
        """
        usage = self.quota.usage(session, project_id)
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
                    raise QuotaExceeded(
                        resource=name,
                        requested=size * req.min_count,
                        used=u.in_use,
                        limit=u.limit,
                    )
        self.quota.check(session, project_id, {k: v * allowed for k, v in per.items()})
        return allowed

    def _networks(self, ctx: RequestContext, value: Any) -> Any:
        """The requested networks, checked as Nova does (400 for unknown networks or
        ports, 409 for a port in use)."""
        if value in ("none", "auto") or not value:
            return value or "none"
        network = self.core.neighbours.network
        if network is None:
            raise BadRequest(
                "Attaching servers to networks is not supported without the network service; "
                "use networks 'none' or 'auto'."
            )
        for entry in value:
            if entry.get("port"):
                try:
                    port = network.get_port_info(ctx, entry["port"])
                except NotFound:
                    raise BadRequest(f"Port id {entry['port']} could not be found.") from None
                if port.device_id:
                    raise Conflict(f"Port {entry['port']} is still in use.")
            elif entry.get("uuid"):
                try:
                    network.get_network_info(ctx, entry["uuid"])
                except NotFound:
                    raise BadRequest(f"Network {entry['uuid']} could not be found.") from None
            else:
                raise BadRequest("Bad networks format: network uuid or port is required")
        return value

    def _zone(
        self, ctx: RequestContext, session: Session, requested: str | None
    ) -> tuple[str | None, str | None]:
        if not requested:
            return None, None
        zone, _, host = requested.partition(":")
        if host:
            self.core.enforce(ctx, "servers:create:forced_host", ctx.project_id)
        if zone and zone not in available_zones(session):
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
            instance = self.core.instance(session, ctx, server_id)
        self.core.enforce(ctx, "servers:show", instance.project_id)
        return instance

    def show(
        self, ctx: RequestContext, server_id: str, *, host_status: bool, image_properties: bool
    ) -> ServerDetails:
        """The server and what the API shows beside it."""
        instance = self.get(ctx, server_id)
        return self.details(
            ctx, [instance], host_status=host_status, image_properties=image_properties
        )[0]

    def details(
        self,
        ctx: RequestContext,
        instances: Sequence[Instance],
        *,
        host_status: bool,
        image_properties: bool,
    ) -> list[ServerDetails]:
        """What the API renders beside each server, with one query (or one call to the
        network service) per kind for the whole page; images once per image."""
        ids = [i.id for i in instances]
        failed = [i.id for i in instances if i.vm_state in (states.ERROR, states.DELETED)]
        with self.db.reader() as session:
            faults = _latest_faults(session, failed)
            hosts = {i.host for i in instances if i.host}
            up = self.core.hosts_up(session, hosts) if host_status else {}
        props: dict[str, dict[str, str]] = {}
        if image_properties:
            for ref in {i.image_ref for i in instances if i.image_ref}:
                props[ref] = self._image_properties(ctx, ref)
        network = self.core.neighbours.network
        addresses = network.addresses_for(ctx, ids) if network is not None and ids else {}
        volumes = self.attachments.volumes_attached(ids)
        return [
            ServerDetails(
                instance=i,
                fault=faults.get(i.id),
                host_up=up.get(i.host) if host_status and i.host else None,
                image_properties=props.get(i.image_ref, {}) if image_properties else None,
                addresses=addresses.get(i.id, {}),
                volumes=volumes.get(i.id, []),
            )
            for i in instances
        ]

    def _image_properties(self, ctx: RequestContext, image_ref: str) -> dict[str, str]:
        images = self.core.neighbours.image
        if images is None:
            return {}
        try:
            return dict(images.get_image(ctx, image_ref).properties)
        except NotFound:
            return {}  # deleted, or not visible to the caller: Nova shows no properties

    def addresses(self, ctx: RequestContext, server_id: str) -> Addresses:
        """``/servers/{id}/ips``: the server's addresses by network name."""
        instance = self.get(ctx, server_id)
        network = self.core.neighbours.network
        return network.addresses(ctx, instance.id) if network is not None else {}

    def rename_security_group(self, instance_id: str, name: str, group_id: str, add: bool) -> None:
        """Record that the server's ports now have (or no longer have) the group."""
        with self.db.writer() as session:
            row = session.get(Instance, instance_id)
            if row is not None:
                names = [n for n in (row.security_groups or []) if n not in (name, group_id)]
                row.security_groups = [*names, name] if add else names

    def metadata_item(self, ctx: RequestContext, server_id: str, key: str) -> str:
        instance = self.get(ctx, server_id)
        meta = instance.meta or {}
        if key not in meta:
            raise MetadataItemNotFound()
        return str(meta[key])

    def has_tag(self, ctx: RequestContext, server_id: str, tag: str) -> bool:
        return tag in (self.get(ctx, server_id).tags or [])

    # -- update, delete --------------------------------------------------------

    def update(self, ctx: RequestContext, server_id: str, changes: dict[str, Any]) -> Instance:
        """Nova keeps the hostname when only the name changes."""
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "servers:update", instance.project_id)
            touch(instance, **changes)
            return instance

    def delete(self, ctx: RequestContext, server_id: str, force: bool = False) -> None:
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(
                ctx,
                "os-admin-actions:force_delete" if force else "servers:delete",
                instance.project_id,
            )
            if instance.locked and not ctx.is_admin:
                raise InstanceLocked(instance_id=instance.id)
            start_action(session, instance, "delete", ctx.request_id, ctx.user_id, ctx.project_id)
            host = instance.host
            shelved_image = instance.shelved_image_id
            offloaded = instance.vm_state == states.SHELVED_OFFLOADED
            if host is None or not self.core.hosts_up(session, {host})[host]:
                mark_deleted(session, instance)
                host = None
            else:
                touch(instance, task_state=states.DELETING)
        if shelved_image:
            self._delete_shelved_image(ctx, shelved_image)
        if host is not None:
            self.core.call(self.core.rpc.agents.terminate_instance(host, server_id, ctx.request_id))
        else:
            if offloaded:  # its ports outlived its host
                netinfo.release(self.core.neighbours.network, instance, ctx.request_id)
            self.attachments.release_if_deleted(server_id)

    def _delete_shelved_image(self, ctx: RequestContext, image_id: str) -> None:
        """The image of a shelved server goes with it (as in Nova); logged if it cannot."""
        images = self.core.neighbours.image
        if images is None:
            return
        try:
            images.delete_image(RequestContext.admin(ctx.request_id), image_id)
        except NotFound:
            pass
        except OneStackError:
            LOG.exception("[%s] could not delete shelved image %s", ctx.request_id, image_id)

    # -- instance actions ------------------------------------------------------

    def actions(self, ctx: RequestContext, server_id: str) -> list[InstanceAction]:
        """The server's instance actions, newest first (also for deleted servers)."""
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id, deleted=True)
            self.core.enforce(ctx, "os-instance-actions:list", instance.project_id)
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
            instance = self.core.instance(session, ctx, server_id, deleted=True)
            self.core.enforce(ctx, "os-instance-actions:show", instance.project_id)
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

    # -- metadata and tags -----------------------------------------------------

    def set_metadata(
        self, ctx: RequestContext, server_id: str, items: dict[str, str], replace: bool
    ) -> dict[str, str]:
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "server-metadata:update", instance.project_id)
            if instance.locked and not ctx.is_admin:
                raise InstanceLocked(instance_id=instance.id)
            merged = dict(items) if replace else {**(instance.meta or {}), **items}
            limit = self.quota.limits(session, instance.project_id)["metadata_items"]
            if 0 <= limit < len(merged):
                raise QuotaExceeded(
                    resource="metadata_items", requested=len(merged), used=0, limit=limit
                )
            touch(instance, meta=merged)
            return merged

    def delete_metadata(self, ctx: RequestContext, server_id: str, key: str) -> None:
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "server-metadata:update", instance.project_id)
            if instance.locked and not ctx.is_admin:
                raise InstanceLocked(instance_id=instance.id)
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
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "os-server-tags:update", instance.project_id)
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


def _latest_faults(session: Session, instance_ids: Sequence[str]) -> dict[str, InstanceFault]:
    """The newest fault of each instance (one query)."""
    if not instance_ids:
        return {}
    found: dict[str, InstanceFault] = {}
    rows = session.scalars(
        select(InstanceFault)
        .where(InstanceFault.instance_id.in_(list(instance_ids)))
        .order_by(InstanceFault.id.desc())
    )
    for row in rows:
        found.setdefault(row.instance_id, row)
    return found


def check_image_fits(image: Any, flavor: Flavor) -> None:
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
