"""The scheduler: picks a host for each new instance and claims its resources.

Filters (all must pass): the compute service is enabled and up, the
availability zone matches (the zone of the host's aggregates, else its own:
compute.aggregates), the host's hypervisor runs the image (Nova's
ImagePropertiesFilter: the image's ``hypervisor_type`` property when set;
otherwise the container root-filesystem format of docs/image-format.md goes
to container hosts and every other image to VM hosts; a volume-backed server
by the image its boot volume is made from; the fake driver takes any), the
host's driver boots from volumes when the instance needs it, free vCPUs, RAM
and disk (capacity * allocation ratio - what the host's instances use), and
the server group's policy (affinity: the group's hosts only; anti-affinity:
none of them, or at most ``max_server_per_host``).  Weighers: most free RAM first (spreading), then
soft-(anti-)affinity.  Selection and claim happen in one write transaction,
so concurrent builds can never over-commit a host.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.exceptions import NotFound
from onestack.common.faults import FaultKind, FaultStore
from onestack.compute import states
from onestack.compute.aggregates import host_zones, service_zone
from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import Capabilities
from onestack.compute.models import (
    BlockDeviceMapping,
    ComputeNode,
    ComputeService,
    Instance,
    ServerGroup,
)
from onestack.image.interface import ImageRecord, ImageService

#: image ``hypervisor_type`` values (lower case) each kind of host runs
HOST_HV_TYPES = {
    "container": {"container", "lxc", "exe"},
    "qemu": {"qemu"},
    "kvm": {"qemu", "kvm"},
}


def image_hypervisor(image: ImageRecord | None) -> str | None:
    """What the image asks for: its ``hypervisor_type``, else ``container`` for a
    container root filesystem, else ``qemu`` (any disk image); None without an image."""
    if image is None:
        return None
    wanted = image.properties.get("hypervisor_type") or image.properties.get("img_hv_type")
    if wanted:
        return wanted.lower()
    if image.properties.get("onestack_rootfs"):
        return "container"
    return "qemu"


def runs(hypervisor_type: str, wanted: str | None) -> bool:
    """Whether a host of ``hypervisor_type`` (os-hypervisors) runs an image asking ``wanted``."""
    kind = hypervisor_type.lower()
    if wanted is None or kind == "fake":
        return True
    return wanted in HOST_HV_TYPES.get(kind, {kind})


@dataclass
class HostState:
    host: str
    node: str
    zone: str
    hypervisor_type: str
    free_vcpus: float
    free_ram: float
    free_disk: float
    instances: int
    capabilities: Capabilities = field(default_factory=Capabilities)


class Scheduler:
    def __init__(
        self, db: Database, settings: ComputeSettings, images: ImageService | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.images = images
        #: injected faults: a ``build`` fault finds no host, an ``agent_down`` one hides it
        self.faults = FaultStore(db)

    def _image(self, image_ref: str) -> ImageRecord | None:
        if not image_ref or self.images is None:
            return None
        try:
            return self.images.get_image(RequestContext.admin(), image_ref)
        except NotFound:
            return None

    def _hosts(self, session: Session) -> dict[str, HostState]:
        cutoff = utcnow() - timedelta(seconds=self.settings.service_down_time)
        services = {
            s.host: s
            for s in session.scalars(
                select(ComputeService).where(ComputeService.binary == "nova-compute")
            )
        }
        usage = {
            row.host: row
            for row in session.execute(
                select(
                    Instance.host,
                    func.sum(Instance.vcpus).label("vcpus"),
                    func.sum(Instance.memory_mb).label("ram"),
                    func.sum(Instance.root_gb).label("disk"),
                    func.count().label("count"),
                )
                .where(~Instance.deleted, Instance.host.is_not(None))
                .group_by(Instance.host)
            )
        }
        hosts = {}
        zones = host_zones(session)
        down = self.faults.hosts_down("compute", session)
        for node in session.scalars(select(ComputeNode)):
            service = services.get(node.host)
            if service is None or service.disabled or service.forced_down:
                continue
            if down is None or node.host in down:
                continue
            if service.updated_at < cutoff:
                continue
            used = usage.get(node.host)
            hosts[node.host] = HostState(
                host=node.host,
                node=node.hypervisor_hostname,
                zone=service_zone(service, zones),
                hypervisor_type=node.hypervisor_type or "",
                free_vcpus=node.vcpus * node.cpu_allocation_ratio - (used.vcpus if used else 0),
                free_ram=(node.memory_mb - node.reserved_memory_mb) * node.ram_allocation_ratio
                - (used.ram if used else 0),
                free_disk=node.local_gb * node.disk_allocation_ratio - (used.disk if used else 0),
                instances=int(used[4]) if used else 0,
                capabilities=Capabilities.from_dict(node.capabilities),
            )
        return hosts

    def _injected(self, instance_ids: list[str]) -> dict[str, str]:
        """The instances an injected ``build`` fault fails: {id: reason}."""
        with self.db.reader() as session:
            rows = session.execute(
                select(Instance.id, Instance.project_id).where(Instance.id.in_(instance_ids))
            )
            projects = {row.id: row.project_id for row in rows}
        failed = {}
        for instance_id in instance_ids:
            fault = self.faults.take(FaultKind.BUILD, projects.get(instance_id))
            if fault is not None:
                failed[instance_id] = fault.reason()
        return failed

    def select_destinations(self, instance_ids: list[str]) -> dict[str, Any]:
        """``{instance_id: host}``, or ``{instance_id: {"error": reason}}``."""
        result: dict[str, Any] = {}
        injected = self._injected(instance_ids)
        with self.db.writer() as session:
            hosts = self._hosts(session)
            group_hosts: dict[str, dict[str, int]] = {}
            for instance_id in instance_ids:
                instance = session.get(Instance, instance_id)
                if instance is None or instance.deleted or instance.host is not None:
                    continue
                if instance.task_state == states.DELETING:
                    continue
                if instance_id in injected:
                    result[instance_id] = {"error": injected[instance_id]}
                    continue
                chosen, reason = self._pick(session, instance, hosts, group_hosts)
                if chosen is None:
                    result[instance_id] = {"error": reason}
                    continue
                state = hosts[chosen]
                state.free_vcpus -= instance.vcpus
                state.free_ram -= instance.memory_mb
                state.free_disk -= instance.root_gb
                state.instances += 1
                if instance.server_group_id:
                    members = group_hosts.setdefault(instance.server_group_id, {})
                    members[chosen] = members.get(chosen, 0) + 1
                instance.host = chosen
                instance.node = state.node
                instance.availability_zone = state.zone
                instance.updated_at = utcnow()
                result[instance_id] = chosen
        return result

    def _group(
        self, session: Session, instance: Instance, group_hosts: dict[str, dict[str, int]]
    ) -> tuple[ServerGroup | None, dict[str, int]]:
        if not instance.server_group_id:
            return None, {}
        group = session.get(ServerGroup, instance.server_group_id)
        if group is None:
            return None, {}
        placed: dict[str, int] = defaultdict(int)
        members = [m for m in group.members if m != instance.id]
        if members:
            for host in session.scalars(
                select(Instance.host).where(
                    Instance.id.in_(members), ~Instance.deleted, Instance.host.is_not(None)
                )
            ):
                if host is not None:
                    placed[host] += 1
        for host, count in group_hosts.get(group.id, {}).items():
            placed[host] = max(placed[host], count)
        return group, dict(placed)

    def _pick(
        self,
        session: Session,
        instance: Instance,
        hosts: dict[str, HostState],
        group_hosts: dict[str, dict[str, int]],
    ) -> tuple[str | None, str]:
        if not hosts:
            return None, "There are not enough hosts available."
        group, placed = self._group(session, instance, group_hosts)
        volume_backed = (
            session.scalar(
                select(func.count()).where(
                    BlockDeviceMapping.instance_id == instance.id,
                    BlockDeviceMapping.boot_index == 0,
                )
            )
            or 0
        ) > 0
        image_ref = instance.image_ref
        if not image_ref and volume_backed:  # the image its boot volume is made from
            image_ref = (
                session.scalar(
                    select(BlockDeviceMapping.image_id).where(
                        BlockDeviceMapping.instance_id == instance.id,
                        BlockDeviceMapping.boot_index == 0,
                    )
                )
                or ""
            )
        wanted = image_hypervisor(self._image(image_ref))
        candidates = []
        reasons = set()
        for state in hosts.values():
            if not runs(state.hypervisor_type, wanted):
                reasons.add(f"hypervisor type {wanted}")
                continue
            if instance.requested_az and state.zone != instance.requested_az:
                reasons.add("availability zone")
                continue
            forced = (instance.scheduler_hints or {}).get("_force_host")
            if forced and state.host != forced:
                reasons.add("requested host")
                continue
            if volume_backed and not state.capabilities.boot_from_volume:
                reasons.add("boot from volume")
                continue
            if state.free_vcpus < instance.vcpus:
                reasons.add("vcpus")
                continue
            if state.free_ram < instance.memory_mb:
                reasons.add("RAM")
                continue
            if state.free_disk < instance.root_gb:
                reasons.add("disk")
                continue
            affinity = group is not None and group.policy == "affinity"
            if affinity and placed and state.host not in placed:
                reasons.add("affinity")
                continue
            if group is not None and group.policy == "anti-affinity":
                limit = int((group.rules or {}).get("max_server_per_host", 1))
                if placed.get(state.host, 0) >= limit:
                    reasons.add("anti-affinity")
                    continue
            candidates.append(state)
        if not candidates:
            return None, "There are not enough hosts available."

        def weight(state: HostState) -> tuple[float, float]:
            soft = 0.0
            if group is not None and group.policy == "soft-affinity":
                soft = placed.get(state.host, 0)
            elif group is not None and group.policy == "soft-anti-affinity":
                soft = -placed.get(state.host, 0)
            return (soft, state.free_ram)

        return max(candidates, key=weight).host, ""

    def claim_resize(self, instance_id: str, flavor: dict[str, Any]) -> None:
        """Check that the instance's host has room for the new flavor (same host)."""
        from onestack.compute.exceptions import NoValidHost

        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.host is None:
                raise NoValidHost(reason="The instance has no host.")
            hosts = self._hosts(session)
            state = hosts.get(instance.host)
            if state is None:
                raise NoValidHost(reason="The instance's host is not available.")
            if (
                state.free_vcpus < flavor["vcpus"] - instance.vcpus
                or state.free_ram < flavor["ram"] - instance.memory_mb
                or state.free_disk < flavor["disk"] - instance.root_gb
            ):
                raise NoValidHost(reason="The host has no room for the new flavor.")
