"""The metering poller against a cloud of its own (the fake compute driver, a poll
every second): Ceilometer's resources, meters, units and attributes appear in the
Metric API for servers, volumes, floating IPs and object storage, and resources
that are deleted get their ``ended_at``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.functional.telemetry.conftest import client
from tests.support.names import unique
from tests.support.server import RunningCloud, new_cloud


@pytest.fixture(scope="module")
def metering(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(
        tmp_path_factory.mktemp("metering"),
        ONESTACK_COMPUTE__DRIVER="fake",
        ONESTACK_TELEMETRY__POLL_INTERVAL="1",
        ONESTACK_TELEMETRY__ARCHIVE_POLICY="ceilometer-high",
        ONESTACK_TELEMETRY__ARCHIVE_POLICY_RATE="ceilometer-high-rate",
    ).start()
    try:
        yield running
    finally:
        running.stop()


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        else:
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
        time.sleep(0.3)


def _found(gnocchi: Any, resource_type: str, original_id: str) -> dict[str, Any] | None:
    found = gnocchi.resource.search(
        resource_type=resource_type, query={"=": {"original_resource_id": original_id}}
    )
    return found[0] if found else None


def test_servers_are_metered_and_ended(metering: RunningCloud) -> None:
    demo = metering.connect("demo", "demo")
    gnocchi = client(metering, "admin", "admin")
    gnocchi_demo = client(metering, "demo", "demo")
    image = demo.image.find_image("onestack-busybox")
    server = demo.compute.create_server(
        name=unique("metered"), image_id=image.id, flavor_id="42", networks="none",
        metadata={"metering.server_group": "group-1"},
    )  # fmt: skip
    demo.compute.wait_for_server(server, interval=0.2, wait=60)
    resource = eventually(lambda: _found(gnocchi, "instance", server.id))
    assert resource["id"] == server.id
    assert resource["display_name"] == server.name and resource["server_group"] == "group-1"
    assert resource["flavor_id"] == "42" and resource["image_ref"] == image.id
    assert resource["host"] and resource["project_id"] == server.project_id
    assert resource["user_id"] == server.user_id
    metrics = eventually(
        lambda: (
            gnocchi.resource.get("instance", server.id)["metrics"]
            if "cpu" in gnocchi.resource.get("instance", server.id)["metrics"]
            else None
        )
    )
    assert {"cpu", "vcpus", "memory", "memory.usage", "memory.resident", "disk.root.size",
            "power.state"} <= set(metrics)  # fmt: skip
    units = {name: gnocchi.metric.get(metric_id)["unit"] for name, metric_id in metrics.items()}
    assert units["cpu"] == "ns" and units["memory"] == "MiB" and units["vcpus"] == "vcpu"
    assert units["disk.root.size"] == "GiB"
    cpu = gnocchi.metric.get(metrics["cpu"])
    assert cpu["archive_policy"]["name"] == "ceilometer-high-rate"
    assert gnocchi.metric.get(metrics["vcpus"])["archive_policy"]["name"] == "ceilometer-high"
    vcpus = eventually(lambda: gnocchi.metric.get_measures(metrics["vcpus"], granularity=1))
    assert vcpus[-1][2] == 1.0
    disk = eventually(lambda: _found(gnocchi, "instance_disk", f"{server.id}-vda"))
    assert disk["name"] == "vda" and disk["instance_id"] == server.id
    assert "disk.device.read.bytes" in disk["metrics"]
    # the owner sees the resource Ceilometer recorded for its project, measures included
    assert gnocchi_demo.resource.get("instance", server.id)["id"] == server.id
    assert gnocchi_demo.metric.get_measures("vcpus", resource_id=server.id, granularity=1)

    demo.compute.delete_server(server)
    demo.compute.wait_for_delete(server, interval=0.2, wait=60)
    ended = eventually(lambda: gnocchi.resource.get("instance", server.id)["ended_at"])
    assert ended is not None
    assert eventually(lambda: gnocchi.resource.get("instance_disk", disk["id"])["ended_at"])


def test_volumes_floating_ips_and_object_storage_are_metered(metering: RunningCloud) -> None:
    demo = metering.connect("demo", "demo")
    gnocchi = client(metering, "admin", "admin")
    volume = demo.block_storage.create_volume(size=2, name=unique("metered-vol"))
    demo.block_storage.wait_for_status(volume, "available", interval=0.2, wait=60)
    found = eventually(lambda: _found(gnocchi, "volume", volume.id))
    assert found["display_name"] == volume.name and found["project_id"] == volume.project_id
    size = eventually(lambda: gnocchi.metric.get_measures("volume.size", resource_id=volume.id,
                                                          granularity=1))  # fmt: skip
    assert size[-1][2] == 2.0

    container = unique("metered")
    demo.object_store.create_container(container)
    demo.object_store.upload_object(container=container, name="a", data=b"x" * 1000)
    project = demo.current_project_id

    def objects() -> Any:
        measures = gnocchi.metric.get_measures("storage.objects.size", resource_id=project,
                                               granularity=1)  # fmt: skip
        return measures if measures and measures[-1][2] == 1000.0 else None

    eventually(objects)
    count = gnocchi.metric.get_measures("storage.objects", resource_id=project, granularity=1)
    assert count[-1][2] == 1.0
    assert gnocchi.metric.get("storage.objects.size", resource_id=project)["unit"] == "B"

    public = demo.network.find_network("public")
    fip = demo.network.create_ip(floating_network_id=public.id)

    def metered_ip() -> Any:
        found = _found(gnocchi, "network", fip.id)
        return found if found and "ip.floating" in found["metrics"] else None

    found_ip = eventually(metered_ip)
    assert gnocchi.metric.get(found_ip["metrics"]["ip.floating"])["unit"] == "ip"

    demo.block_storage.delete_volume(volume)
    demo.network.delete_ip(fip)
    demo.object_store.delete_object("a", container=container)
    demo.object_store.delete_container(container)
    assert eventually(lambda: gnocchi.resource.get("volume", volume.id)["ended_at"])
    assert eventually(lambda: gnocchi.resource.get("network", found_ip["id"])["ended_at"])
    emptied = eventually(
        lambda: (
            gnocchi.metric.get_measures("storage.objects", resource_id=project, granularity=1)[-1][
                2
            ]
            == 0.0
        )
    )
    assert emptied
    assert str(uuid.UUID(found["id"])) == volume.id
