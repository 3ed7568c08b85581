"""The metering poller against a cloud of its own (the fake compute driver, a poll
every second): Ceilometer's resources, meters, units and attributes appear in the
Metric API for servers, volumes, floating IPs and object storage, and resources
that are deleted get their ``ended_at``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.functional.telemetry.conftest import client
from tests.functional.telemetry.stories import eventually, found_resource, service_meters_story
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
    resource = eventually(lambda: found_resource(gnocchi, "instance", server.id))
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
    disk = eventually(lambda: found_resource(gnocchi, "instance_disk", f"{server.id}-vda"))
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
    service_meters_story(metering.connect("demo", "demo"), client(metering, "admin", "admin"))
