"""The scheduler's filters and claims on a real (SQLite) database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from onestack.common.db import Base, Database
from onestack.compute import states
from onestack.compute.conf import ComputeSettings
from onestack.compute.models import ComputeNode, ComputeService, Instance, ServerGroup
from onestack.compute.scheduler import Scheduler


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'sched.db'}")
    Base.metadata.create_all(database.engine)
    with database.writer() as session:
        for host, ram in (("h1", 1024), ("h2", 4096)):
            session.add(
                ComputeService(id=str(uuid.uuid4()), host=host, binary="nova-compute", zone="nova")
            )
            session.add(
                ComputeNode(
                    id=str(uuid.uuid4()),
                    host=host,
                    hypervisor_hostname=host,
                    hypervisor_type="fake",
                    vcpus=2,
                    memory_mb=ram,
                    local_gb=10,
                    cpu_allocation_ratio=1.0,
                    ram_allocation_ratio=1.0,
                    disk_allocation_ratio=1.0,
                )
            )
    return database


def _instance(db: Database, ram: int, group: str | None = None, zone: str | None = None) -> str:
    instance_id = str(uuid.uuid4())
    with db.writer() as session:
        session.add(
            Instance(
                id=instance_id,
                name="i",
                project_id="p",
                user_id="u",
                hostname="i",
                flavor={},
                flavor_id="1",
                vcpus=1,
                memory_mb=ram,
                root_gb=1,
                vm_state=states.BUILDING,
                task_state=states.SCHEDULING,
                reservation_id="r",
                server_group_id=group,
                requested_az=zone,
            )
        )
    return instance_id


def test_most_free_ram_wins_and_claims_are_counted(db: Database) -> None:
    scheduler = Scheduler(db, ComputeSettings())
    first = _instance(db, 3500)
    assert scheduler.select_destinations([first]) == {first: "h2"}
    second = _instance(db, 1000)
    assert scheduler.select_destinations([second]) == {second: "h1"}
    third = _instance(db, 2000)
    result = scheduler.select_destinations([third])
    assert "error" in result[third]


def test_anti_affinity_spreads_then_fails(db: Database) -> None:
    group = str(uuid.uuid4())
    with db.writer() as session:
        session.add(
            ServerGroup(
                id=group, name="g", project_id="p", user_id="u", policy="anti-affinity", members=[]
            )
        )
    ids = [_instance(db, 100, group) for _ in range(3)]
    with db.writer() as session:
        session.get(ServerGroup, group).members = ids  # type: ignore[union-attr]
    result = Scheduler(db, ComputeSettings()).select_destinations(ids)
    assert sorted(result[i] for i in ids[:2]) == ["h1", "h2"]
    assert "error" in result[ids[2]]


def test_unknown_zone_finds_no_host(db: Database) -> None:
    instance = _instance(db, 100, zone="elsewhere")
    result = Scheduler(db, ComputeSettings()).select_destinations([instance])
    assert "error" in result[instance]


class _Images:
    """An image service holding three images: a container root filesystem, a qcow2,
    and a raw disk asking for KVM."""

    def __init__(self) -> None:
        from onestack.image.interface import ImageRecord

        def record(image_id: str, disk_format: str, **properties: str) -> ImageRecord:
            return ImageRecord(
                id=image_id, name=image_id, status="active", disk_format=disk_format,
                container_format="bare", size=1, min_disk=0, min_ram=0, owner="p",
                visibility="public", protected=False, checksum=None, properties=properties,
            )  # fmt: skip

        self.records = {
            "rootfs": record("rootfs", "raw", onestack_rootfs="ext4"),
            "cirros": record("cirros", "qcow2"),
            "kvm-only": record("kvm-only", "raw", hypervisor_type="kvm"),
        }

    def get_image(self, ctx: object, image_id: str) -> object:
        from onestack.common.exceptions import NotFound

        if image_id not in self.records:
            raise NotFound(f"Image {image_id} could not be found.")
        return self.records[image_id]


def _two_kinds(db: Database) -> None:
    with db.writer() as session:
        for node in session.query(ComputeNode):
            node.hypervisor_type = "container" if node.host == "h1" else "QEMU"


def _with_image(db: Database, image: str) -> str:
    instance_id = _instance(db, 100)
    with db.writer() as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        row.image_ref = image
    return instance_id


def test_images_go_to_the_hosts_whose_hypervisor_runs_them(db: Database) -> None:
    _two_kinds(db)
    scheduler = Scheduler(db, ComputeSettings(), _Images())  # type: ignore[arg-type]
    rootfs, cirros = _with_image(db, "rootfs"), _with_image(db, "cirros")
    assert scheduler.select_destinations([rootfs]) == {rootfs: "h1"}
    assert scheduler.select_destinations([cirros]) == {cirros: "h2"}
    # h2 runs QEMU on TCG: an image that asks for KVM has no host
    kvm = _with_image(db, "kvm-only")
    result = scheduler.select_destinations([kvm])
    assert result[kvm] == {"error": "There are not enough hosts available."}


def test_a_disabled_vm_host_leaves_disk_images_without_a_host(db: Database) -> None:
    _two_kinds(db)
    with db.writer() as session:
        for service in session.query(ComputeService).filter(ComputeService.host == "h2"):
            service.disabled = True
    scheduler = Scheduler(db, ComputeSettings(), _Images())  # type: ignore[arg-type]
    cirros = _with_image(db, "cirros")
    assert "error" in scheduler.select_destinations([cirros])[cirros]
    rootfs = _with_image(db, "rootfs")
    assert scheduler.select_destinations([rootfs]) == {rootfs: "h1"}
