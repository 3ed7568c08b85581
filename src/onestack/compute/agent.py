"""The compute agent: one per host, the only code that calls the driver.

It serves the ``compute`` topic under its host name.  Every operation runs in
a worker thread under a per-instance lock, records an event of the request's
instance action, and ends in one consistent state: success moves the
instance to its new vm_state; a failed build or rebuild moves it to ERROR
with a fault; any other failure puts it back as it really is (power state
from the driver) with a fault.  At start the agent registers its service and
hypervisor, reconciles every instance of its host with what really runs
(``sync_all``), and then reports every ``heartbeat_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.compute import netinfo, states
from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import ComputeDriver, InstanceSpec, TapVif
from onestack.compute.exceptions import DriverError, InstanceNotFound
from onestack.compute.instances import EventRecorder, add_fault, mark_deleted, touch
from onestack.compute.models import ComputeNode, ComputeService, Instance
from onestack.compute.states import PowerState
from onestack.compute.volume_agent import AgentVolumes

LOG = logging.getLogger(__name__)

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
}
_FATAL = ("rebuild",)


def _power_vm_state(power: PowerState) -> str:
    return {
        PowerState.RUNNING: states.ACTIVE,
        PowerState.PAUSED: states.PAUSED,
        PowerState.SUSPENDED: states.SUSPENDED,
    }.get(power, states.STOPPED)


class ComputeAgent:
    def __init__(
        self,
        db: Database,
        settings: ComputeSettings,
        driver: ComputeDriver,
        host: str,
        images: Any,
        work_dir: Path,
    ) -> None:
        self.work_dir = work_dir
        self.db = db
        self.settings = settings
        self.driver = driver
        self.host = host
        self.images = images
        self.events = EventRecorder(db, host)
        #: volumes of this host's instances (attach, detach, boot from volume)
        self.block = AgentVolumes(self)
        #: the cloud's services (the network service's public interface is "network")
        self.services: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._heartbeat: asyncio.Task[None] | None = None

    def _lock(self, instance_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(instance_id, threading.Lock())

    # -- registration, heartbeat, restart safety --------------------------------

    def register(self) -> None:
        info = self.driver.info()
        with self.db.writer() as session:
            service = session.scalars(
                select(ComputeService).where(
                    ComputeService.host == self.host, ComputeService.binary == "nova-compute"
                )
            ).first()
            if service is None:
                session.add(
                    ComputeService(
                        id=str(uuid.uuid4()),
                        host=self.host,
                        binary="nova-compute",
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
            node.cpu_allocation_ratio = self.settings.cpu_allocation_ratio
            node.ram_allocation_ratio = self.settings.ram_allocation_ratio
            node.disk_allocation_ratio = self.settings.disk_allocation_ratio
            capabilities = self.driver.capabilities
            reserved = self.settings.reserved_host_memory_mb if capabilities.real_workloads else 0
            node.reserved_memory_mb = reserved
            node.updated_at = utcnow()

    def report(self) -> None:
        with self.db.writer() as session:
            for service in session.scalars(
                select(ComputeService).where(ComputeService.host == self.host)
            ):
                service.updated_at = utcnow()

    async def start(self) -> None:
        await asyncio.to_thread(self.register)
        await asyncio.to_thread(self.sync_all, True)
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat

    async def _beat(self) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval)
            rounds += 1
            try:
                await asyncio.to_thread(self.report)
                if rounds % 3 == 0:
                    await asyncio.to_thread(self.sync_all, False)
            except Exception:
                LOG.exception("compute agent %s: periodic report failed", self.host)

    def sync_all(self, at_start: bool) -> None:
        """Reconcile the database with what really runs on this host."""
        real = self.driver.list_instances()
        with self.db.reader() as session:
            rows = list(
                session.scalars(
                    select(Instance).where(Instance.host == self.host, ~Instance.deleted)
                )
            )
        known = {row.id for row in rows}
        for row in rows:
            with self._lock(row.id):
                try:
                    power = real.get(row.id, PowerState.NOSTATE)
                    if power != self._recorded_power(row.id):
                        # The listing predates the lock: an operation that held it may
                        # have started or stopped the instance since. Ask again.
                        power = self.driver.get_power_state(row.id)
                    self._sync_one(row.id, power, at_start)
                except Exception:
                    LOG.exception("power state sync of %s failed", row.id)
        if at_start:
            for orphan in set(real) - known:
                LOG.warning("destroying instance %s: it has no live server record", orphan)
                try:
                    self.driver.destroy(orphan)
                except Exception:
                    LOG.exception("could not destroy orphan instance %s", orphan)

    def _recorded_power(self, instance_id: str) -> int | None:
        with self.db.reader() as session:
            instance = session.get(Instance, instance_id)
            return instance.power_state if instance is not None else None

    def _sync_one(self, instance_id: str, power: PowerState, at_start: bool) -> None:
        destroy = False
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.deleted:
                return
            task = instance.task_state
            if at_start and task == states.DELETING:
                destroy = True
            elif at_start and instance.vm_state == states.BUILDING:
                if power == PowerState.RUNNING:
                    touch(
                        instance,
                        vm_state=states.ACTIVE,
                        task_state=None,
                        power_state=power,
                        launched_at=instance.launched_at or utcnow(),
                    )
                else:
                    touch(instance, vm_state=states.ERROR, task_state=None, power_state=power)
                    add_fault(
                        session,
                        instance_id,
                        "Build of instance was interrupted by a restart of its compute agent.",
                        self.host,
                        500,
                    )
                    destroy = True
            elif at_start and task is not None:
                if power == PowerState.NOSTATE and task in (
                    states.REBUILDING,
                    states.REBUILD_SPAWNING,
                ):
                    touch(instance, vm_state=states.ERROR, task_state=None, power_state=power)
                    add_fault(
                        session,
                        instance_id,
                        "Rebuild was interrupted by a restart of its compute agent.",
                        self.host,
                        500,
                    )
                else:
                    vm_state = instance.vm_state
                    if vm_state not in (states.RESIZED, states.ERROR):
                        vm_state = _power_vm_state(power)
                    touch(instance, vm_state=vm_state, task_state=None, power_state=power)
            elif task is None:
                if instance.power_state != power:
                    instance.power_state = power
                    instance.updated_at = utcnow()
                if instance.vm_state == states.ACTIVE and power in (
                    PowerState.SHUTDOWN,
                    PowerState.CRASHED,
                ):
                    touch(instance, vm_state=states.STOPPED)
                elif (
                    instance.vm_state
                    in (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)
                    and power == PowerState.NOSTATE
                ):
                    touch(instance, vm_state=states.ERROR)
                    add_fault(
                        session,
                        instance_id,
                        "The instance disappeared from its host.",
                        self.host,
                        500,
                    )
        if destroy:
            self._destroy_and_mark(instance_id, instance_id_is_building=True)

    # -- helpers ---------------------------------------------------------------

    def _spec(
        self, instance: Instance, image_id: str | None = None, flavor: dict[str, Any] | None = None
    ) -> InstanceSpec:
        image = image_id or instance.image_ref
        flavor = flavor or instance.flavor
        path: Path | None = None
        properties: dict[str, str] = {}
        disk_format = "raw"
        kernel: Path | None = None
        ramdisk: Path | None = None
        capabilities = self.driver.capabilities
        if self.images is not None and image:
            ctx = RequestContext.admin()
            try:
                record = self.images.get_image(ctx, image)
                properties = dict(record.properties)
                disk_format = record.disk_format or "raw"
                path = self.images.data_path(ctx, image)
                if capabilities.tap_vifs and properties.get("kernel_id"):
                    kernel = self.images.data_path(ctx, properties["kernel_id"])
                    if properties.get("ramdisk_id"):
                        ramdisk = self.images.data_path(ctx, properties["ramdisk_id"])
            except Exception as exc:
                if capabilities.real_workloads:
                    raise DriverError(reason=f"image {image} is not available: {exc}") from exc
        network = self.services.get("network")
        vifs: tuple[TapVif, ...] = ()
        netns: str | None = None
        if capabilities.tap_vifs:
            vifs = netinfo.tap_vifs(network, instance)
        else:
            netns = netinfo.netns_path(network, instance)
        return InstanceSpec(
            id=instance.id,
            name=instance.name,
            hostname=instance.hostname,
            project_id=instance.project_id,
            user_id=instance.user_id,
            image_id=image,
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

    def _destroy_and_mark(self, instance_id: str, instance_id_is_building: bool = False) -> None:
        self.driver.destroy(instance_id)
        with self.db.reader() as session:
            owner = session.get(Instance, instance_id)
            if owner is not None:
                netinfo.release(
                    self.services.get("network"), instance_id, owner.project_id, owner.user_id
                )
        if instance_id_is_building:
            with self.db.writer() as session:
                instance = session.get(Instance, instance_id)
                if instance is not None and instance.task_state == states.DELETING:
                    mark_deleted(session, instance)
            self.block.release(instance_id)
            return
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is not None and not instance.deleted:
                mark_deleted(session, instance)
        self.block.release(instance_id)

    # -- operations (bus endpoint methods) ---------------------------------------

    def build_and_run_instance(self, instance_id: str, request_id: str) -> None:
        with self._lock(instance_id):
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
                    if self.services.get("network") is not None:
                        netinfo.allocate(
                            self.services["network"], self._load(instance_id), self.host
                        )
                    self.block.prepare_boot(instance_id, request_id)
                    spec = self._spec(self._load(instance_id))
                    self.driver.spawn(spec)
            except Exception as exc:
                LOG.info("build of %s failed: %s", instance_id, exc)
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
                self.block.release(instance_id)
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
                self._destroy_and_mark(instance_id)

    def run_action(
        self, instance_id: str, action: str, request_id: str, params: dict[str, Any]
    ) -> None:
        if action == "delete":
            with self._lock(instance_id):
                with self.events.event(instance_id, request_id, "compute_terminate_instance"):
                    self._destroy_and_mark(instance_id)
            return
        handler: Callable[[Instance], None] = getattr(self, f"_do_{action}")
        with self._lock(instance_id):
            try:
                instance = self._load(instance_id)
            except InstanceNotFound:
                return
            try:
                with self.events.event(instance_id, request_id, f"compute_{_event(action)}"):
                    handler(instance, **params)
            except Exception as exc:
                LOG.info("%s of %s failed: %s", action, instance_id, exc)
                self._failed(instance_id, action, exc)
                return
            self._succeeded(instance_id, action)

    def _succeeded(self, instance_id: str, action: str) -> None:
        power = self.driver.get_power_state(instance_id)
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.deleted:
                return
            vm_state = _AFTER.get(action) or _power_vm_state(power)
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
                if vm_state != states.RESIZED:
                    vm_state = _power_vm_state(power) if power != PowerState.NOSTATE else vm_state
                touch(instance, task_state=None, power_state=power, vm_state=vm_state)
            add_fault(session, instance_id, exc, self.host)

    def _do_stop(self, instance: Instance) -> None:
        self.driver.power_off(instance.id, self.settings.stop_timeout)

    def _do_start(self, instance: Instance) -> None:
        self.driver.power_on(self._spec(instance))

    def _do_reboot(self, instance: Instance, hard: bool = False) -> None:
        self.driver.reboot(self._spec(instance), hard, self.settings.stop_timeout)

    def _do_pause(self, instance: Instance) -> None:
        self.driver.pause(instance.id)

    def _do_unpause(self, instance: Instance) -> None:
        self.driver.unpause(instance.id)

    def _do_suspend(self, instance: Instance) -> None:
        self.driver.suspend(instance.id)

    def _do_resume(self, instance: Instance) -> None:
        self.driver.resume(instance.id)

    def _do_rebuild(self, instance: Instance) -> None:
        with self.db.writer() as session:
            row = session.get(Instance, instance.id)
            if row is not None:
                touch(row, task_state=states.REBUILD_SPAWNING)
        was_stopped = instance.vm_state == states.STOPPED
        self.driver.rebuild(self._spec(instance))
        if was_stopped:
            self.driver.power_off(instance.id, self.settings.stop_timeout)

    def _do_resize(self, instance: Instance) -> None:
        self.driver.resize(self._spec(instance))

    def _do_confirmResize(self, instance: Instance) -> None:
        return None

    def _do_revertResize(self, instance: Instance) -> None:
        old = instance.old_flavor or instance.flavor
        self.driver.resize(self._spec(instance, flavor=old))
        with self.db.writer() as session:
            row = session.get(Instance, instance.id)
            if row is not None:
                touch(
                    row,
                    flavor=old,
                    flavor_id=old.get("id", row.flavor_id),
                    vcpus=old["vcpus"],
                    memory_mb=old["ram"],
                    root_gb=old["disk"],
                )

    def snapshot_instance(
        self,
        instance_id: str,
        request_id: str,
        name: str,
        metadata: dict[str, str],
        user_id: str,
        project_id: str,
    ) -> str:
        with self._lock(instance_id):
            instance = self._load(instance_id)
            snapshots = self.work_dir / "snapshots"
            snapshots.mkdir(parents=True, exist_ok=True)
            disk_format = self.driver.snapshot_disk_format
            target = snapshots / f"{uuid.uuid4().hex}.{disk_format}"
            try:
                with self.events.event(instance_id, request_id, "compute_snapshot_instance"):
                    self.driver.snapshot(instance_id, target)
                    if self.images is None:
                        raise DriverError(reason="the image service is not available")
                    properties = dict(metadata)
                    properties.update(
                        {
                            "image_type": "snapshot",
                            "instance_uuid": instance_id,
                            "base_image_ref": instance.image_ref,
                            "user_id": user_id,
                        }
                    )
                    if disk_format == "raw":  # the container driver's root filesystem
                        properties["onestack_rootfs"] = "ext4"
                    base = self._base_properties(instance.image_ref)
                    for key in ("os_distro", "os_type", "hw_architecture", "hypervisor_type"):
                        if key in base and key not in properties:
                            properties[key] = base[key]
                    ctx = RequestContext(
                        request_id=request_id,
                        user_id=user_id,
                        project_id=project_id,
                        roles=("member", "reader"),
                        is_internal=True,
                    )
                    record = self.images.create_from_file(
                        ctx,
                        name,
                        target,
                        disk_format=disk_format,
                        container_format="bare",
                        properties=properties,
                        visibility="private",
                        min_disk=int(instance.root_gb),
                        min_ram=0,
                    )
                    return str(record.id)
            finally:
                target.unlink(missing_ok=True)
                with self.db.writer() as session:
                    row = session.get(Instance, instance_id)
                    if row is not None and row.task_state in (
                        states.IMAGE_SNAPSHOT,
                        states.IMAGE_UPLOADING,
                    ):
                        touch(row, task_state=None)

    def _base_properties(self, image_id: str) -> dict[str, str]:
        try:
            return dict(self.images.get_image(RequestContext.admin(), image_id).properties)
        except Exception:
            return {}

    def console_socket(self, instance_id: str, kind: str) -> str:
        """The Unix socket of the instance's ``serial`` or ``vnc`` console (for the proxies)."""
        return str(self.driver.console_socket(instance_id, kind))

    def console_output(self, instance_id: str, length: int | None) -> str:
        output = self.driver.console_output(instance_id, length)
        if length is None:
            return output
        # Nova's tail: the last ``length`` pieces of the log split at newlines
        # (a final newline counts as one, so "a\nb\n" with length 2 is "b\n").
        return "\n".join(output.split("\n")[-length:]) if length else ""


def _event(action: str) -> str:
    return {
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
    }.get(action, action)
