"""The compute agent: one per host, the only code that calls the driver.

It serves the ``compute`` topic under its host name through
``rpcapi.AgentEndpoint``.  It reaches other services only through the
clients it is given (:class:`AgentClients`): the image API over HTTP (bytes
into this host's image cache), the network and volume services through
their Protocols (their bus clients on a host of its own), so the same agent
runs in the all-in-one and on another host.

Every operation runs in a worker thread under the instance's lock (shared
with the block devices), records an event of the request's instance action,
and ends in one consistent state: success moves the instance to its new
vm_state; a failed build or rebuild moves it to ERROR with a fault; any other
failure puts it back as it really is (power state from the driver) with a
fault.  Failures are logged with their traceback and the request id.  At
start the agent registers its service and hypervisor (with the driver's
capabilities), reconciles every instance of its host with what really runs
(``power_sync``), then runs its periodic tasks: the service report every
``heartbeat_interval``, the power-state sync and the image cache's pruning.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from onestack.common.db import Database, utcnow
from onestack.common.exceptions import OneStackError
from onestack.common.periodic import PeriodicTask, TaskRunner
from onestack.compute import netinfo, states
from onestack.compute.block_devices import BlockDevices
from onestack.compute.conf import ComputeSettings
from onestack.compute.core import COMPUTE_BINARY
from onestack.compute.disk_images import DiskImages
from onestack.compute.driver import (
    ComputeDriver,
    InstanceSpec,
    InstanceStats,
    RescueImage,
    TapVif,
)
from onestack.compute.exceptions import InstanceNotFound
from onestack.compute.images import ImageCache, ImageClient
from onestack.compute.instances import (
    EventRecorder,
    add_fault,
    mark_deleted,
    set_flavor,
    touch,
)
from onestack.compute.locks import InstanceLocks
from onestack.compute.migration_records import advance, advance_in
from onestack.compute.models import ComputeNode, ComputeService, Instance
from onestack.compute.power_sync import PowerStateSync, power_vm_state
from onestack.compute.states import PowerState

if TYPE_CHECKING:
    from onestack.compute.rpcapi import SnapshotRequest
    from onestack.image.interface import ImageRecord
    from onestack.network.interface import NetworkService
    from onestack.volume.interface import VolumeService

LOG = logging.getLogger(__name__)

#: markers left by a whole-cloud restore, one per instance (``resume_restored``)
RESUME_DIR = "resume-on-start"
_RESUMABLE = (PowerState.RUNNING, PowerState.PAUSED, PowerState.SUSPENDED)

#: vm_state after a successful action (None: decided from the power state)
_AFTER = {
    "stop": states.STOPPED,
    "start": states.ACTIVE,
    "reboot": states.ACTIVE,
    "pause": states.PAUSED,
    "unpause": states.ACTIVE,
    "suspend": states.SUSPENDED,
    "resume": states.ACTIVE,
    "rebuild": None,
    "resize": states.RESIZED,
    "confirmResize": None,
    "revertResize": None,
    "rescue": states.RESCUED,
    "unrescue": states.ACTIVE,
}
_FATAL = ("rebuild",)
#: Nova's instance action event of each action
_EVENTS = {
    "stop": "stop_instance",
    "start": "start_instance",
    "reboot": "reboot_instance",
    "pause": "pause_instance",
    "unpause": "unpause_instance",
    "suspend": "suspend_instance",
    "resume": "resume_instance",
    "rebuild": "rebuild_instance",
    "resize": "resize_instance",
    "confirmResize": "confirm_resize",
    "revertResize": "revert_resize",
    "rescue": "rescue_instance",
    "unrescue": "unrescue_instance",
    "shelve": "shelve_instance",
    "shelveOffload": "shelve_offload_instance",
}


def _recorded(db: Database, step: Callable[[Instance], None]) -> Callable[[Instance], None]:
    """``step`` of a resize, its migration record in ``error`` when it fails."""

    def run(instance: Instance) -> None:
        try:
            step(instance)
        except Exception:
            advance_in(db, instance.id, "error")
            raise

    return run


@dataclass(frozen=True)
class AgentClients:
    """How an agent reaches the other services (nothing else of theirs)."""

    images: ImageClient
    network: NetworkService | None
    volumes: VolumeService | None


class ComputeAgent:
    def __init__(
        self,
        db: Database,
        settings: ComputeSettings,
        driver: ComputeDriver,
        host: str,
        clients: AgentClients,
        work_dir: Path,
    ) -> None:
        self.db = db
        self.settings = settings
        self.driver = driver
        self.host = host
        self.clients = clients
        self.work_dir = work_dir
        self.locks = InstanceLocks()
        self.events = EventRecorder(db, host)
        self.image_cache = ImageCache(work_dir / "images", clients.images)
        #: volumes of this host's instances (attach, detach, boot from volume)
        self.block = BlockDevices(db, host, driver, self.events, self.locks, clients.volumes)
        self.disk_images = DiskImages(
            driver,
            clients.images,
            work_dir,
            lambda image_id, request_id: self._image(image_id, request_id, fetch=False)[1],
        )
        self.power_sync = PowerStateSync(
            db, host, driver, self.locks, lambda i: self._destroy_and_mark(i, only_deleting=True)
        )
        self.tasks = TaskRunner(
            f"compute agent {host}",
            [
                PeriodicTask("report", settings.heartbeat_interval, self.report),
                PeriodicTask(
                    "power state sync",
                    settings.sync_power_state_interval,
                    lambda: self.power_sync.sync_all(False),
                ),
                PeriodicTask(
                    "image cache", settings.image_cache_prune_interval, self.prune_image_cache
                ),
            ],
        )

    # -- registration, heartbeat, restart safety --------------------------------

    def register(self) -> None:
        """The host's service and compute node, with the driver's capacity and capabilities."""
        info = self.driver.info()
        capabilities = self.driver.capabilities
        with self.db.writer() as session:
            service = session.scalars(
                select(ComputeService).where(
                    ComputeService.host == self.host, ComputeService.binary == COMPUTE_BINARY
                )
            ).first()
            if service is None:
                session.add(
                    ComputeService(
                        id=str(uuid.uuid4()),
                        host=self.host,
                        binary=COMPUTE_BINARY,
                        zone=self.settings.availability_zone,
                    )
                )
            else:
                service.zone = self.settings.availability_zone
                service.updated_at = utcnow()
            node = session.scalars(select(ComputeNode).where(ComputeNode.host == self.host)).first()
            if node is None:
                node = ComputeNode(id=str(uuid.uuid4()), host=self.host)
                session.add(node)
            node.hypervisor_hostname = info.hypervisor_hostname
            node.hypervisor_type = info.hypervisor_type
            node.hypervisor_version = info.hypervisor_version
            node.host_ip = info.host_ip
            node.vcpus = info.vcpus
            node.memory_mb = info.memory_mb
            node.local_gb = info.local_gb
            node.cpu_info = dict(info.cpu_info)
            node.capabilities = capabilities.as_dict()
            node.cpu_allocation_ratio = self.settings.cpu_allocation_ratio
            node.ram_allocation_ratio = self.settings.ram_allocation_ratio
            node.disk_allocation_ratio = self.settings.disk_allocation_ratio
            reserved = self.settings.reserved_host_memory_mb if capabilities.real_workloads else 0
            node.reserved_memory_mb = reserved
            node.updated_at = utcnow()

    def report(self) -> None:
        with self.db.writer() as session:
            for service in session.scalars(
                select(ComputeService).where(ComputeService.host == self.host)
            ):
                service.updated_at = utcnow()

    def prune_image_cache(self) -> None:
        with self.db.reader() as session:
            in_use = set(
                session.scalars(
                    select(Instance.image_ref).where(Instance.host == self.host, ~Instance.deleted)
                )
            )
        removed = self.image_cache.prune(in_use, self.settings.image_cache_max_age)
        if removed:
            LOG.info("compute agent %s: removed unused cached images %s", self.host, removed)

    def start(self) -> None:
        """Register and reconcile (in a worker thread), then ``tasks.start()`` on the loop."""
        self.register()
        self.resume_restored()
        self.power_sync.sync_all(True)

    def resume_restored(self) -> None:
        """Bring the instances a whole-cloud restore put back to their recorded power state.

        ``onestack snapshot restore`` (``onestack.snapshots``) leaves one marker per
        restored instance in ``<work_dir>/resume-on-start/``; their disks are back but
        nothing runs.  Like Nova's ``resume_guests_state_on_host_boot``, an instance of
        this host recorded running (or paused, or suspended) with no task under way is
        started (and paused or suspended) again; the power-state sync that follows
        records what really runs.  Its marker is removed either way.
        """
        markers = self.work_dir / RESUME_DIR
        if not markers.is_dir():
            return
        with self.db.reader() as session:
            rows = list(
                session.scalars(
                    select(Instance).where(Instance.host == self.host, ~Instance.deleted)
                )
            )
        restored = [row for row in rows if (markers / row.id).exists()]

        def resume(row: Instance) -> None:
            with self.locks(row.id):
                try:
                    self._resume_one(row)
                except Exception:
                    LOG.exception("compute agent %s: resuming %s failed", self.host, row.id)
                (markers / row.id).unlink(missing_ok=True)

        if restored:  # each start waits on runc or QEMU: several at once
            with ThreadPoolExecutor(min(4, len(restored)), thread_name_prefix="resume") as pool:
                list(pool.map(resume, restored))

    def _resume_one(self, instance: Instance) -> None:
        wanted = instance.power_state
        if instance.task_state is not None or wanted not in _RESUMABLE:
            return
        if self.driver.get_power_state(instance.id) != PowerState.SHUTDOWN:
            return
        LOG.info("compute agent %s: starting restored instance %s", self.host, instance.id)
        self.block.reconnect(instance)
        self.driver.power_on(self._spec(instance, ""))
        if wanted == PowerState.PAUSED:
            self.driver.pause(instance.id)
        elif wanted == PowerState.SUSPENDED:
            self.driver.suspend(instance.id)

    # -- helpers ---------------------------------------------------------------

    def _image(
        self, image_id: str, request_id: str, fetch: bool
    ) -> tuple[Path | None, dict[str, str], str]:
        """The image's file on this host, its properties and its disk format.

        ``fetch``: download it into the cache if needed, and fail if that fails
        (spawn, rebuild).  Otherwise use what the cache has; an image the image
        service no longer shows only costs its properties (logged).
        """
        if not image_id:
            return None, {}, "raw"
        if fetch:
            record: ImageRecord = self.clients.images.get_image(image_id)
            fetched = self.image_cache.fetch(record)
            return fetched, dict(record.properties), record.disk_format or "raw"
        try:
            record = self.clients.images.get_image(image_id)
        except OneStackError as exc:
            LOG.warning("[%s] image %s: no properties (%s)", request_id, image_id, exc)
            return self.image_cache.cached(image_id), {}, "raw"
        path = self.image_cache.cached(image_id)
        return path, dict(record.properties), record.disk_format or "raw"

    def _spec(
        self,
        instance: Instance,
        request_id: str,
        *,
        fetch: bool = False,
        flavor: dict[str, Any] | None = None,
        image_id: str | None = None,
    ) -> InstanceSpec:
        """``image_id``: boot from that image instead of the instance's (unshelve)."""
        flavor = flavor or instance.flavor
        image_id = image_id or instance.image_ref
        path, properties, disk_format = self._image(image_id, request_id, fetch)
        kernel: Path | None = None
        ramdisk: Path | None = None
        vifs: tuple[TapVif, ...] = ()
        netns: str | None = None
        if self.driver.capabilities.tap_vifs:
            if properties.get("kernel_id"):  # an AMI: boot its AKI (and ARI) directly
                kernel = self._image(properties["kernel_id"], request_id, True)[0]
                if properties.get("ramdisk_id"):
                    ramdisk = self._image(properties["ramdisk_id"], request_id, True)[0]
            vifs = netinfo.tap_vifs(self.clients.network, instance)
        else:
            netns = netinfo.netns_path(self.clients.network, instance)
        return InstanceSpec(
            id=instance.id,
            name=instance.name,
            hostname=instance.hostname,
            project_id=instance.project_id,
            user_id=instance.user_id,
            image_id=image_id,
            image_path=path,
            image_properties=properties,
            vcpus=int(flavor["vcpus"]),
            memory_mb=int(flavor["ram"]),
            root_gb=int(flavor["disk"]),
            availability_zone=instance.availability_zone or self.settings.availability_zone,
            launch_index=instance.launch_index,
            key_name=instance.key_name,
            key_data=instance.key_data,
            user_data=instance.user_data,
            metadata=dict(instance.meta or {}),
            **self.block.spec_fields(instance.id),
            netns_path=netns,
            image_disk_format=disk_format,
            kernel_path=kernel,
            ramdisk_path=ramdisk,
            ephemeral_gb=int(flavor.get("ephemeral") or 0),
            swap_mb=int(flavor.get("swap") or 0),
            config_drive=str(instance.config_drive).lower() in ("true", "1", "yes"),
            vifs=vifs,
        )

    def _load(self, instance_id: str) -> Instance:
        with self.db.reader() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.deleted:
                raise InstanceNotFound(instance_id=instance_id)
            return instance

    def _destroy_and_mark(
        self, instance_id: str, request_id: str = "", only_deleting: bool = False
    ) -> None:
        """Destroy the instance, free its network and volumes, mark it deleted
        (``only_deleting``: only when a delete was asked for)."""
        self.driver.destroy(instance_id)
        with self.db.reader() as session:
            owner = session.get(Instance, instance_id)
        if owner is not None:
            netinfo.release(self.clients.network, owner, request_id)
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            wanted = instance is not None and not instance.deleted
            if wanted and only_deleting:
                wanted = instance is not None and instance.task_state == states.DELETING
            if wanted and instance is not None:
                mark_deleted(session, instance)
        self.block.release(instance_id, request_id)

    # -- operations (AgentEndpoint) ----------------------------------------------

    def build_and_run_instance(self, instance_id: str, request_id: str) -> None:
        with self.locks(instance_id):
            with self.db.writer() as session:
                instance = session.get(Instance, instance_id)
                if instance is None or instance.deleted:
                    return
                if instance.task_state == states.DELETING:
                    mark_deleted(session, instance)
                    return
                touch(instance, task_state=states.SPAWNING)
            try:
                with self.events.event(instance_id, request_id, "compute_build_and_run_instance"):
                    if self.clients.network is not None:
                        netinfo.allocate(
                            self.clients.network, self._load(instance_id), self.host, request_id
                        )
                    self.block.prepare_boot(instance_id, request_id)
                    spec = self._spec(self._load(instance_id), request_id, fetch=True)
                    self.driver.spawn(spec)
            except Exception as exc:
                LOG.exception("[%s] build of %s failed", request_id, instance_id)
                with self.db.writer() as session:
                    instance = session.get(Instance, instance_id)
                    if instance is not None and not instance.deleted:
                        if instance.task_state == states.DELETING:
                            mark_deleted(session, instance)
                        else:
                            touch(
                                instance,
                                vm_state=states.ERROR,
                                task_state=None,
                                power_state=PowerState.NOSTATE,
                            )
                            add_fault(session, instance_id, exc, self.host)
                self.block.release(instance_id, request_id)
                return
            deleted_meanwhile = False
            with self.db.writer() as session:
                instance = session.get(Instance, instance_id)
                if instance is None or instance.deleted or instance.task_state == states.DELETING:
                    deleted_meanwhile = True
                else:
                    touch(
                        instance,
                        vm_state=states.ACTIVE,
                        task_state=None,
                        power_state=PowerState.RUNNING,
                        launched_at=utcnow(),
                        progress=100,
                    )
            if deleted_meanwhile:
                self._destroy_and_mark(instance_id, request_id)

    def terminate_instance(self, instance_id: str, request_id: str) -> None:
        with self.locks(instance_id):
            try:
                with self.events.event(instance_id, request_id, "compute_terminate_instance"):
                    self._destroy_and_mark(instance_id, request_id)
            except Exception:
                LOG.exception("[%s] delete of %s failed", request_id, instance_id)
                raise

    def stop_instance(self, instance_id: str, request_id: str) -> None:
        self._run(
            instance_id,
            request_id,
            "stop",
            lambda i: self.driver.power_off(i.id, self.settings.stop_timeout),
        )

    def start_instance(self, instance_id: str, request_id: str) -> None:
        self._run(
            instance_id,
            request_id,
            "start",
            lambda i: self.driver.power_on(self._spec(i, request_id)),
        )

    def reboot_instance(self, instance_id: str, request_id: str, hard: bool) -> None:
        self._run(
            instance_id,
            request_id,
            "reboot",
            lambda i: self.driver.reboot(
                self._spec(i, request_id), hard, self.settings.stop_timeout
            ),
        )

    def pause_instance(self, instance_id: str, request_id: str) -> None:
        self._run(instance_id, request_id, "pause", lambda i: self.driver.pause(i.id))

    def unpause_instance(self, instance_id: str, request_id: str) -> None:
        self._run(instance_id, request_id, "unpause", lambda i: self.driver.unpause(i.id))

    def suspend_instance(self, instance_id: str, request_id: str) -> None:
        self._run(instance_id, request_id, "suspend", lambda i: self.driver.suspend(i.id))

    def resume_instance(self, instance_id: str, request_id: str) -> None:
        self._run(instance_id, request_id, "resume", lambda i: self.driver.resume(i.id))

    def rescue_instance(self, instance_id: str, request_id: str, image_ref: str) -> None:
        def rescue(instance: Instance) -> None:
            path, _, disk_format = self._image(image_ref, request_id, True)
            assert path is not None
            image = RescueImage(image_id=image_ref, image_path=path, disk_format=disk_format)
            self.driver.rescue(self._spec(instance, request_id), image)

        self._run(instance_id, request_id, "rescue", rescue)

    def unrescue_instance(self, instance_id: str, request_id: str) -> None:
        self._run(
            instance_id,
            request_id,
            "unrescue",
            lambda i: self.driver.unrescue(self._spec(i, request_id)),
        )

    def rebuild_instance(self, instance_id: str, request_id: str) -> None:
        def rebuild(instance: Instance) -> None:
            with self.db.writer() as session:
                row = session.get(Instance, instance.id)
                if row is not None:
                    touch(row, task_state=states.REBUILD_SPAWNING)
            was_stopped = instance.vm_state == states.STOPPED
            self.driver.rebuild(self._spec(instance, request_id, fetch=True))
            if was_stopped:
                self.driver.power_off(instance.id, self.settings.stop_timeout)

        self._run(instance_id, request_id, "rebuild", rebuild)

    def resize_instance(self, instance_id: str, request_id: str) -> None:
        def resize(instance: Instance) -> None:
            advance_in(self.db, instance.id, "migrating")
            self.driver.resize(self._spec(instance, request_id))
            advance_in(self.db, instance.id, "finished")

        self._run(instance_id, request_id, "resize", _recorded(self.db, resize))

    def confirm_resize(self, instance_id: str, request_id: str) -> None:
        def confirm(instance: Instance) -> None:
            advance_in(self.db, instance.id, "confirmed")

        self._run(instance_id, request_id, "confirmResize", _recorded(self.db, confirm))

    def revert_resize(self, instance_id: str, request_id: str) -> None:
        def revert(instance: Instance) -> None:
            old = instance.old_flavor or instance.flavor
            self.driver.resize(self._spec(instance, request_id, flavor=old))
            with self.db.writer() as session:
                row = session.get(Instance, instance.id)
                if row is not None:
                    set_flavor(row, old)
                advance(session, instance.id, "reverted")

        self._run(instance_id, request_id, "revertResize", _recorded(self.db, revert))

    def _run(
        self,
        instance_id: str,
        request_id: str,
        action: str,
        handler: Callable[[Instance], None],
    ) -> None:
        with self.locks(instance_id):
            try:
                instance = self._load(instance_id)
            except InstanceNotFound:
                return
            try:
                with self.events.event(instance_id, request_id, f"compute_{_EVENTS[action]}"):
                    handler(instance)
            except Exception as exc:
                LOG.exception("[%s] %s of %s failed", request_id, action, instance_id)
                self._failed(instance_id, action, exc)
                return
            self._succeeded(instance_id, action)

    def _succeeded(self, instance_id: str, action: str) -> None:
        power = self.driver.get_power_state(instance_id)
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.deleted:
                return
            vm_state = _AFTER.get(action) or power_vm_state(power)
            changes: dict[str, Any] = {
                "vm_state": vm_state,
                "task_state": None,
                "power_state": power,
            }
            if action in ("confirmResize", "revertResize"):
                changes["old_flavor"] = None
            if action == "rebuild":
                changes["launched_at"] = utcnow()
            touch(instance, **changes)

    def _failed(self, instance_id: str, action: str, exc: BaseException) -> None:
        power = self.driver.get_power_state(instance_id)
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.deleted:
                return
            if action in _FATAL:
                touch(instance, vm_state=states.ERROR, task_state=None, power_state=power)
            else:
                vm_state = instance.vm_state
                if vm_state != states.RESIZED and power != PowerState.NOSTATE:
                    vm_state = power_vm_state(power)
                touch(instance, task_state=None, power_state=power, vm_state=vm_state)
            add_fault(session, instance_id, exc, self.host)

    def snapshot_instance(self, instance_id: str, request: SnapshotRequest) -> str:
        """Write the instance's disk as a new image of its project; the image's id."""
        with self.locks(instance_id):
            instance = self._load(instance_id)
            try:
                with self.events.event(
                    instance_id, request.request_id, "compute_snapshot_instance"
                ):
                    return self.disk_images.upload(instance, request)
            except Exception:
                LOG.exception("[%s] snapshot of %s failed", request.request_id, instance_id)
                raise
            finally:
                with self.db.writer() as session:
                    row = session.get(Instance, instance_id)
                    if row is not None and row.task_state in (
                        states.IMAGE_SNAPSHOT,
                        states.IMAGE_BACKUP,
                        states.IMAGE_UPLOADING,
                    ):
                        touch(row, task_state=None)

    # -- shelve ------------------------------------------------------------------

    def shelve_instance(self, instance_id: str, request: SnapshotRequest, offload: bool) -> None:
        """Stop the guest and save its root disk as the image ``request.name`` (none when
        the name is empty: a volume-backed server), then SHELVED; ``offload``: at once
        SHELVED_OFFLOADED (Nova's ``shelved_offload_time`` 0)."""
        with self.locks(instance_id):
            try:
                instance = self._load(instance_id)
            except InstanceNotFound:
                return
            image_id: str | None = None
            try:
                with self.events.event(instance_id, request.request_id, "compute_shelve_instance"):
                    self.driver.power_off(instance_id, self.settings.stop_timeout)
                    if request.name:
                        self._set_task(instance_id, states.SHELVING_IMAGE_UPLOADING)
                        image_id = self.disk_images.upload(instance, request)
            except Exception as exc:
                LOG.exception("[%s] shelve of %s failed", request.request_id, instance_id)
                self._failed(instance_id, "shelve", exc)
                return
            with self.db.writer() as session:
                row = session.get(Instance, instance_id)
                if row is None or row.deleted:
                    return
                touch(
                    row,
                    vm_state=states.SHELVED,
                    task_state=states.SHELVING_OFFLOADING if offload else None,
                    power_state=PowerState.SHUTDOWN,
                    shelved_image_id=image_id,
                )
        if offload:
            self.shelve_offload_instance(instance_id, request.request_id)

    def shelve_offload_instance(self, instance_id: str, request_id: str) -> None:
        """Destroy the shelved instance on this host: its guest, its network namespace
        (the ports stay the instance's), its place on this host."""
        with self.locks(instance_id):
            try:
                self._load(instance_id)
            except InstanceNotFound:
                return
            try:
                with self.events.event(instance_id, request_id, "compute_shelve_offload_instance"):
                    self.driver.destroy(instance_id)
                    if self.clients.network is not None:
                        self.clients.network.teardown_instance_network(instance_id)
            except Exception as exc:
                LOG.exception("[%s] shelve offload of %s failed", request_id, instance_id)
                self._failed(instance_id, "shelveOffload", exc)
                return
            with self.db.writer() as session:
                row = session.get(Instance, instance_id)
                if row is not None and not row.deleted:
                    touch(
                        row,
                        vm_state=states.SHELVED_OFFLOADED,
                        task_state=None,
                        power_state=PowerState.NOSTATE,
                        host=None,
                        node=None,
                    )

    def unshelve_instance(self, instance_id: str, request_id: str) -> None:
        """Spawn the shelved instance on this host from its shelved image (its own image
        for a volume-backed one), with its ports and volumes; then delete that image."""
        with self.locks(instance_id):
            try:
                instance = self._load(instance_id)
            except InstanceNotFound:
                return
            shelved = instance.shelved_image_id
            try:
                with self.events.event(instance_id, request_id, "compute_unshelve_instance"):
                    self._set_task(instance_id, states.SPAWNING)
                    if instance.vm_state == states.SHELVED:
                        self.driver.power_on(self._spec(instance, request_id))
                    else:
                        if self.clients.network is not None:
                            netinfo.allocate(self.clients.network, instance, self.host, request_id)
                        self.block.reconnect(instance, request_id)
                        self.block.prepare_boot(instance_id, request_id)
                        spec = self._spec(
                            self._load(instance_id), request_id, fetch=True, image_id=shelved
                        )
                        self.driver.spawn(spec)
            except Exception as exc:
                LOG.exception("[%s] unshelve of %s failed", request_id, instance_id)
                with self.db.writer() as session:
                    row = session.get(Instance, instance_id)
                    if row is not None and not row.deleted:
                        changes: dict[str, Any] = {"task_state": None}
                        if row.vm_state == states.SHELVED_OFFLOADED:
                            changes.update(host=None, node=None)
                        touch(row, **changes)
                        add_fault(session, instance_id, exc, self.host)
                if instance.vm_state == states.SHELVED_OFFLOADED:
                    self.driver.destroy(instance_id)
                return
            with self.db.writer() as session:
                row = session.get(Instance, instance_id)
                if row is not None and not row.deleted:
                    touch(
                        row,
                        vm_state=states.ACTIVE,
                        task_state=None,
                        power_state=PowerState.RUNNING,
                        shelved_image_id=None,
                        launched_at=utcnow(),
                    )
            if shelved:
                try:
                    self.clients.images.delete_image(shelved)
                except Exception:
                    LOG.exception("[%s] could not delete shelved image %s", request_id, shelved)

    def _set_task(self, instance_id: str, task_state: str) -> None:
        with self.db.writer() as session:
            row = session.get(Instance, instance_id)
            if row is not None:
                touch(row, task_state=task_state)

    def console_socket(self, instance_id: str, kind: str) -> str:
        """The Unix socket of the instance's ``serial`` or ``vnc`` console (for the proxies)."""
        return str(self.driver.console_socket(instance_id, kind))

    def attach_interface(self, instance_id: str, port_id: str) -> None:
        """Plug the port (already the instance's) into the running VM as a tap."""
        with self.locks(instance_id):
            instance = self._load(instance_id)
            vifs = netinfo.tap_vifs(self.clients.network, instance)
            vif = next((v for v in vifs if v.port_id == port_id), None)
            if vif is None:
                raise InstanceNotFound(instance_id=instance_id)
            self.driver.attach_interface(instance_id, vif)

    def detach_interface(self, instance_id: str, port_id: str) -> None:
        """Unplug the port's NIC from the VM (before the network removes its tap)."""
        with self.locks(instance_id):
            self.driver.detach_interface(instance_id, port_id)

    def instance_stats(self, instance_id: str) -> InstanceStats:
        """What the driver measures of a running instance (the metering poller's input);
        NotFound when it does not run here, NotSupported when the driver measures
        nothing."""
        return self.driver.instance_stats(instance_id)

    def get_console_output(self, instance_id: str, length: int | None) -> str:
        output = self.driver.console_output(instance_id, length)
        if length is None:
            return output
        # Nova's tail: the last ``length`` pieces of the log split at newlines
        # (a final newline counts as one, so "a\nb\n" with length 2 is "b\n").
        return "\n".join(output.split("\n")[-length:]) if length else ""
