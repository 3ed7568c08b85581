"""The compute manager on its own: its own database (compute tables only), an
in-process bus with its scheduler, conductor and one agent on the fake driver,
and fakes of the image, network and volume services as its only neighbours.
No server, no other service's tables, no root.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect as sql_inspect

from onestack.common.bus import InProcessBus
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.exceptions import BadRequest, Conflict, NotFound, NotSupported
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.compute import policies, states
from onestack.compute.agent import AgentClients, ComputeAgent
from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import DiskStats, InstanceStats
from onestack.compute.drivers.fake import FakeComputeDriver
from onestack.compute.exceptions import DriverError
from onestack.compute.flavors import ensure_default_flavors
from onestack.compute.manager import ComputeManager
from onestack.compute.models import ComputeNode, InstanceAction
from onestack.compute.rpcapi import AgentAPI, AgentEndpoint, ComputeRPC
from onestack.compute.servers import ServerRequest
from onestack.compute.service import ComputeControl, ComputeHost
from onestack.image.interface import ImageRecord
from onestack.neighbours import Neighbours
from onestack.network.interface import (
    FixedIP,
    InstanceMetadata,
    NetworkInfo,
    PortInfo,
)
from onestack.volume.interface import AttachmentInfo, ConnectionInfo, VolumeInfo

HOST = "compute-1"
MEMBER = RequestContext(
    request_id="req-compute-manager",
    user_id="u1",
    project_id="p1",
    roles=("member", "reader"),
)
IMAGE_BYTES = b"onestack test image\n" * 100


def _image(image_id: str) -> ImageRecord:
    import hashlib

    return ImageRecord(
        id=image_id,
        name="busybox",
        status="active",
        disk_format="raw",
        container_format="bare",
        size=len(IMAGE_BYTES),
        min_disk=0,
        min_ram=0,
        owner="p1",
        visibility="public",
        protected=False,
        checksum=hashlib.md5(IMAGE_BYTES, usedforsecurity=False).hexdigest(),
        properties={"os_distro": "busybox"},
    )


class FakeImages:
    """The image service (control plane) and the agent's image client in one."""

    def __init__(self) -> None:
        self.downloads = 0

    def get_image(self, *args: str) -> ImageRecord:
        image_id = args[-1]
        if image_id == "missing":
            raise NotFound(f"Image {image_id} could not be found.")
        return _image(image_id)

    def download(self, image: ImageRecord, target: Path) -> None:
        self.downloads += 1
        target.write_bytes(IMAGE_BYTES)

    def create_image(self, path: Path, **kwargs: Any) -> str:
        return "snapshot-1"

    def delete_image(self, image_id: str) -> None:
        pass


@dataclass
class FakeNetwork:
    """Networking with one network; counts what the server list asks."""

    ports: dict[str, list[PortInfo]] = field(default_factory=dict)
    allocated_on: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def allocate_for_instance(
        self, ctx: RequestContext, instance_id: str, host: str, requested: Any, **kw: Any
    ) -> list[PortInfo]:
        self.calls.append("allocate_for_instance")
        if requested == "none":
            return []
        port = PortInfo(
            id=str(uuid.uuid4()),
            network_id="net-1",
            network_name="private",
            mac_address="fa:16:3e:00:00:01",
            mtu=1450,
            fixed_ips=(FixedIP("10.0.0.5", "sub-1", "10.0.0.0/24", "10.0.0.1", 4),),
            device_id=instance_id,
        )
        self.ports[instance_id] = [port]
        self.allocated_on[instance_id] = host
        return [port]

    def missing_security_groups(self, ctx: RequestContext, names: list[str]) -> list[str]:
        return [n for n in names if n != "default"]

    def deallocate_for_instance(self, ctx: RequestContext, instance_id: str) -> None:
        self.ports.pop(instance_id, None)

    def get_instance_nw_info(self, ctx: RequestContext, instance_id: str) -> list[PortInfo]:
        return list(self.ports.get(instance_id, []))

    def addresses(self, ctx: RequestContext, instance_id: str) -> dict[str, Any]:
        self.calls.append("addresses")
        return self.addresses_for(ctx, [instance_id])[instance_id]

    def addresses_for(self, ctx: RequestContext, instance_ids: list[str]) -> dict[str, Any]:
        self.calls.append("addresses_for")
        return {
            i: {p.network_name: [{"addr": p.fixed_ips[0].address, "version": 4}]}
            for i in instance_ids
            for p in self.ports.get(i, [])
        } | {i: {} for i in instance_ids if i not in self.ports}

    def setup_instance_network(self, instance_id: str, ports: list[PortInfo]) -> Path:
        raise NotSupported(operation="Instance networking without a data plane on this host")

    def teardown_instance_network(self, instance_id: str) -> None:
        return None

    def get_network_info(self, ctx: RequestContext, network_id: str) -> NetworkInfo:
        if network_id != NETWORK_ID:
            raise NotFound(f"Network {network_id} could not be found.")
        return NetworkInfo(id=network_id, name="private", project_id="p1")


NETWORK_ID = "7b1e5b0c-54b4-4bd6-9cdb-6b7d6c1f4f5e"


@dataclass
class FakeVolumes:
    """One available volume; records what the agent asked, and from which host."""

    volume_id: str = "2f0c5a3e-93d7-4bfa-8c8b-0d7f7b2b9c11"
    status: str = "available"
    connected_from: list[str] = field(default_factory=list)
    attachments: dict[str, str] = field(default_factory=dict)

    def get_volume(self, ctx: RequestContext, volume_id: str) -> VolumeInfo:
        if volume_id != self.volume_id:
            raise NotFound(f"Volume {volume_id} could not be found.")
        return VolumeInfo(
            volume_id, "p1", "data", 1, self.status, "detached", False, False, "nova", "v1"
        )

    def reserve(
        self, ctx: RequestContext, volume_id: str, instance_uuid: str, mode: str = "rw"
    ) -> AttachmentInfo:
        attachment_id = str(uuid.uuid4())
        self.attachments[attachment_id] = instance_uuid
        self.status = "reserved"
        return AttachmentInfo(attachment_id, volume_id, instance_uuid, "reserved", mode, None)

    def connect(
        self, ctx: RequestContext, attachment_id: str, host: str, mountpoint: str | None = None
    ) -> ConnectionInfo:
        self.connected_from.append(host)
        return ConnectionInfo(attachment_id, self.volume_id, "file", "/dev/fake7", "rw", "v1")

    def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        self.status = "in-use"

    def detach(self, ctx: RequestContext, attachment_id: str) -> None:
        self.attachments.pop(attachment_id, None)
        self.status = "available"


@dataclass
class Stack:
    db: Database
    manager: ComputeManager
    agent: ComputeAgent
    images: FakeImages
    network: FakeNetwork
    volumes: FakeVolumes
    run: Callable[[Callable[[], Any]], Any]


@pytest.fixture()
def stack(tmp_path: Path) -> Iterator[Stack]:
    db = Database(f"sqlite:///{tmp_path / 'compute.db'}")
    upgrade(db, ["onestack.compute"])
    ensure_default_flavors(db)
    settings = ComputeSettings(
        host=HOST,
        heartbeat_interval=3600,
        sync_power_state_interval=0,
        image_cache_prune_interval=0,
    )
    images, network, volumes = FakeImages(), FakeNetwork(), FakeVolumes()
    neighbours = Neighbours.of({"image": images, "network": network, "volume": volumes})
    loop = asyncio.new_event_loop()
    bus = InProcessBus(drain_timeout=2.0)
    manager = ComputeManager(
        db, Enforcer(policies.RULES), settings, neighbours, ComputeRPC.over(bus)
    )
    manager.core.rpc.bridge.loop = loop
    driver = FakeComputeDriver(settings, tmp_path / "compute", HOST)
    clients = AgentClients(images=images, network=network, volumes=volumes)
    agent = ComputeAgent(db, settings, driver, HOST, clients, tmp_path / "compute")
    control = ComputeControl(manager, bus, "control-1")
    host = ComputeHost(agent, bus, workers=4)

    async def start() -> None:
        await bus.start()
        await control.start()
        await host.start()

    async def stop() -> None:
        await host.stop()
        await control.stop()
        await bus.stop()

    loop.run_until_complete(start())

    def run(work: Callable[[], Any]) -> Any:
        return loop.run_until_complete(asyncio.to_thread(work))

    try:
        yield Stack(db, manager, agent, images, network, volumes, run)
    finally:
        loop.run_until_complete(stop())
        loop.close()
        db.dispose()


def _wait(stack: Stack, what: str, done: Callable[[], bool], timeout: float = 15) -> None:
    def poll() -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} within {timeout} seconds")
            time.sleep(0.02)

    stack.run(poll)


def _boot(stack: Stack, **kwargs: Any) -> str:
    request = ServerRequest(name="vm", image_ref="img-1", flavor_ref="42", **kwargs)
    created, _ = stack.run(lambda: stack.manager.servers.create(MEMBER, request))
    server_id = str(created[0].id)
    _wait(stack, "ACTIVE", lambda: _state(stack, server_id) in (states.ACTIVE, states.ERROR))
    assert _state(stack, server_id) == states.ACTIVE
    return server_id


def _state(stack: Stack, server_id: str) -> str:
    return str(stack.manager.servers.get(MEMBER, server_id).vm_state)


def test_the_manager_needs_only_its_own_tables(stack: Stack) -> None:
    tables = set(sql_inspect(stack.db.engine).get_table_names())
    assert {"compute_instances", "compute_nodes", "compute_flavors"} <= tables
    assert {
        t for t in tables if not t.startswith(("compute_", "quota_", "alembic_", "injected_faults"))
    } == set()


def test_a_server_boots_with_a_port_and_a_volume_through_its_neighbours(stack: Stack) -> None:
    server_id = _boot(
        stack,
        networks=[{"uuid": NETWORK_ID}],
        block_devices=(
            {
                "source_type": "volume",
                "destination_type": "volume",
                "uuid": stack.volumes.volume_id,
                "boot_index": None,
            },
        ),
    )
    assert stack.network.allocated_on == {server_id: HOST}
    assert stack.volumes.connected_from == [HOST]
    assert stack.volumes.status == "in-use"
    assert stack.agent.driver.list_instances() == {server_id: states.PowerState.RUNNING}
    cached = stack.agent.image_cache.cached("img-1")
    assert cached is not None and cached.read_bytes() == IMAGE_BYTES
    details = stack.run(
        lambda: stack.manager.servers.show(
            MEMBER, server_id, host_status=True, image_properties=True
        )
    )
    assert details.addresses == {"private": [{"addr": "10.0.0.5", "version": 4}]}
    assert details.volumes == [(stack.volumes.volume_id, False)]
    assert details.image_properties == {"os_distro": "busybox"}
    assert details.host_up is True


def test_unknown_networks_and_images_are_400_before_anything_is_written(stack: Stack) -> None:
    bad_network = ServerRequest(
        name="vm", image_ref="img-1", flavor_ref="42", networks=[{"uuid": str(uuid.uuid4())}]
    )
    with pytest.raises(BadRequest, match=r"Network .* could not be found"):
        stack.run(lambda: stack.manager.servers.create(MEMBER, bad_network))
    bad_image = ServerRequest(name="vm", image_ref="missing", flavor_ref="42")
    with pytest.raises(BadRequest, match="Image missing could not be found"):
        stack.run(lambda: stack.manager.servers.create(MEMBER, bad_image))
    assert stack.run(lambda: stack.manager.lister.list(MEMBER, [], detail=True)) == []


def test_an_operation_the_hosts_driver_lacks_is_501_before_it_is_cast(stack: Stack) -> None:
    server_id = _boot(stack)
    with stack.db.writer() as session:
        node = session.query(ComputeNode).filter_by(host=HOST).one()
        node.capabilities = {**(node.capabilities or {}), "pause": False}
    with pytest.raises(NotSupported) as raised:
        stack.run(
            lambda: stack.manager.actions.simple_action(
                MEMBER, server_id, "pause", "os-pause-server:pause"
            )
        )
    assert raised.value.code == 501
    assert "Pausing a server is not supported by the fake compute driver" in str(raised.value)
    instance = stack.manager.servers.get(MEMBER, server_id)
    assert (instance.vm_state, instance.task_state) == (states.ACTIVE, None)
    with stack.db.reader() as session:
        actions = [a.action for a in session.query(InstanceAction).filter_by(instance_id=server_id)]
    assert actions == ["create"]
    assert stack.agent.driver.get_power_state(server_id) is states.PowerState.RUNNING


def test_a_supported_action_reaches_the_agent(stack: Stack) -> None:
    server_id = _boot(stack)
    stack.run(
        lambda: stack.manager.actions.simple_action(MEMBER, server_id, "stop", "servers:stop")
    )
    _wait(stack, "SHUTOFF", lambda: _state(stack, server_id) == states.STOPPED)
    assert stack.agent.driver.get_power_state(server_id) is states.PowerState.SHUTDOWN
    with pytest.raises(Conflict):
        stack.run(
            lambda: stack.manager.actions.simple_action(MEMBER, server_id, "stop", "servers:stop")
        )


def test_a_page_of_servers_asks_the_network_once(stack: Stack) -> None:
    ids = [_boot(stack, networks=[{"uuid": NETWORK_ID}]) for _ in range(3)]
    stack.network.calls.clear()
    page = stack.run(lambda: stack.manager.lister.list(MEMBER, [], detail=True))
    found = stack.run(
        lambda: stack.manager.servers.details(
            MEMBER, page, host_status=False, image_properties=False
        )
    )
    assert sorted(d.instance.id for d in found) == sorted(ids)
    assert all(d.addresses for d in found)
    assert stack.network.calls == ["addresses_for"]


def test_metadata_for_the_network_service_comes_from_the_interface(stack: Stack) -> None:
    server_id = _boot(stack, metadata={"role": "web"})
    found = stack.manager.instance_metadata(server_id)
    assert isinstance(found, InstanceMetadata)
    assert (found.uuid, found.hostname, found.meta) == (server_id, "vm", {"role": "web"})
    assert stack.manager.instance_metadata(str(uuid.uuid4())) is None


def test_the_agent_client_and_endpoint_name_the_same_operations() -> None:
    client = {
        name: inspect.signature(method)
        for name, method in inspect.getmembers(AgentAPI, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }
    endpoint = {
        name: inspect.signature(method)
        for name, method in inspect.getmembers(AgentEndpoint, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }
    assert set(client) == set(endpoint)
    for name, signature in client.items():
        sent = [p for p in signature.parameters if p not in ("self", "host")]
        served = [p for p in endpoint[name].parameters if p != "self"]
        assert sent == served, name


def test_instance_statistics_survive_the_wire() -> None:
    stats = InstanceStats(
        cpu_time_ns=12_000_000,
        memory_usage_bytes=64 << 20,
        memory_resident_bytes=80 << 20,
        disks=(DiskStats("vda", 4096, 8192, 1, 2), DiskStats("vdb", 0, 512, 0, 1)),
    )
    # what the bus carries is JSON: the disks arrive as a list of objects
    assert InstanceStats.from_wire(json.loads(json.dumps(stats.to_wire()))) == stats


def test_a_failed_build_is_an_error_with_a_fault_and_a_logged_traceback(
    stack: Stack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(spec: Any) -> None:
        raise DriverError(reason="the hypervisor is on fire")

    monkeypatch.setattr(stack.agent.driver, "spawn", broken)
    request = ServerRequest(name="vm", image_ref="img-1", flavor_ref="42")
    with caplog.at_level(logging.ERROR, logger="onestack.compute.agent"):
        created, _ = stack.run(lambda: stack.manager.servers.create(MEMBER, request))
        server_id = str(created[0].id)
        _wait(stack, "ERROR", lambda: _state(stack, server_id) == states.ERROR)
    details = stack.run(
        lambda: stack.manager.servers.show(
            MEMBER, server_id, host_status=False, image_properties=False
        )
    )
    assert details.fault is not None and details.fault.message == "the hypervisor is on fire"
    logged = [r for r in caplog.records if server_id in r.getMessage()]
    assert logged and MEMBER.request_id in logged[0].getMessage()
    assert logged[0].exc_info is not None
