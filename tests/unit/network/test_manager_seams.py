"""The networking service built alone: its own tables, and fakes for what it is given.

NetworkManager's collaborators come through its constructor: a data plane
(here a recording fake implementing the data-plane ABC) and the metadata
source that compute's provider is registered in (here a fake provider).  No
other service's tables exist in the database.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import inspect

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.network import policies
from onestack.network.conf import NetworkSettings
from onestack.network.driver import (
    DataPlaneCapabilities,
    InstancePlug,
    MetadataSource,
    NetworkDataPlane,
    Presence,
)
from onestack.network.exceptions import NetworkAmbiguous, NotSupported
from onestack.network.interface import InstanceMetadata, NetworkRequest, NetworkService
from onestack.network.manager import NetworkManager
from onestack.network.topology import Desired
from tests.unit.network.conftest import LoopThread


@dataclass
class RecordingPlane(NetworkDataPlane):
    """A data plane that plugs instances on paper and records what it was asked."""

    name = "recording"
    plugged: dict[str, tuple[str, ...]] = field(default_factory=dict)
    applied: list[Desired] = field(default_factory=list)

    def capabilities(self) -> DataPlaneCapabilities:
        return DataPlaneCapabilities(instance_ports=True)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def apply(self, desired: Desired) -> None:
        self.applied.append(desired)

    def present(self) -> Presence:
        return Presence(instances=frozenset(self.plugged))

    def plug_instance(self, plug: InstancePlug) -> Path:
        self.plugged[plug.instance_id] = tuple(p.id for p in plug.ports)
        return Path("/run/netns") / f"osvm-{plug.instance_id}"

    def unplug_port(self, instance_id: str, port_id: str) -> None:
        ports = self.plugged.get(instance_id, ())
        self.plugged[instance_id] = tuple(p for p in ports if p != port_id)

    def unplug_instance(self, instance_id: str) -> None:
        self.plugged.pop(instance_id, None)

    def instance_plugged(self, instance_id: str) -> bool:
        return instance_id in self.plugged


class FakeCompute:
    """Compute's side of the metadata seam (interface.MetadataProvider)."""

    def __init__(self) -> None:
        self.instances: dict[str, InstanceMetadata] = {}

    def instance_metadata(self, instance_id: str) -> InstanceMetadata | None:
        return self.instances.get(instance_id)


@dataclass
class Built:
    manager: NetworkManager
    plane: RecordingPlane
    metadata: MetadataSource
    db: Database
    ctx: RequestContext


@pytest.fixture()
def built() -> Iterator[Built]:
    db = Database("sqlite://")
    upgrade(db, ["onestack.network"])
    plane = RecordingPlane()
    metadata = MetadataSource()
    manager = NetworkManager(
        NetworkSettings(resync_interval=0.2),
        db,
        Enforcer(policies.RULES),
        data_plane=plane,
        metadata=metadata,
    )
    ctx = RequestContext(user_id="u", project_id=uuid.uuid4().hex, roles=("member", "reader"))
    try:
        yield Built(manager, plane, metadata, db, ctx)
    finally:
        db.dispose()


def test_no_table_of_another_service_exists(built: Built) -> None:
    tables = set(inspect(built.db.engine).get_table_names())
    ours = {t for t in tables if t.startswith("network_")}
    common = {"alembic_version", "quota_defaults", "quota_limits", "quota_locks", "injected_faults"}
    assert ours and tables == ours | common


def test_the_manager_is_the_networking_protocol(built: Built) -> None:
    service: NetworkService = built.manager
    assert service.addresses_for(built.ctx, []) == {}


def test_an_instance_is_allocated_plugged_and_released(built: Built) -> None:
    manager, ctx = built.manager, built.ctx
    network = manager.networks.create(ctx, {"name": "seams"})
    manager.subnets.create(ctx, {"network_id": network.id, "cidr": "10.9.0.0/24", "ip_version": 4})
    instance = str(uuid.uuid4())
    ports = manager.allocate_for_instance(
        ctx, instance, "host-1", [NetworkRequest(network_id=network.id)]
    )
    path = manager.setup_instance_network(instance, ports)
    assert path.name == f"osvm-{instance}"
    assert built.plane.plugged[instance] == (ports[0].id,)
    # plugging marks the port active, as the agent's wiring would
    assert manager.ports.get(ctx, ports[0].id).status == "ACTIVE"
    addresses = manager.addresses_for(ctx, [instance])[instance]["seams"]
    assert [a["addr"] for a in addresses] == [ports[0].fixed_ips[0].address]
    manager.detach_interface(ctx, instance, ports[0].id)
    assert built.plane.plugged[instance] == ()
    manager.teardown_instance_network(instance)
    assert not built.plane.instance_plugged(instance)
    assert manager.get_instance_nw_info(ctx, instance) == []


def test_auto_allocation_refuses_to_guess_between_networks(built: Built) -> None:
    for name in ("one", "two"):
        built.manager.networks.create(built.ctx, {"name": name})
    with pytest.raises(NetworkAmbiguous):
        built.manager.allocate_for_instance(built.ctx, str(uuid.uuid4()), "host-1", "auto")


def test_compute_registers_its_metadata_provider_unless_one_is_configured(built: Built) -> None:
    compute = FakeCompute()
    built.manager.set_metadata_provider(compute)
    assert built.metadata.current() is compute
    configured = FakeCompute()
    built.metadata.configured = configured
    assert built.metadata.current() is configured


def test_without_a_data_plane_plugging_is_not_supported() -> None:
    db = Database("sqlite://")
    upgrade(db, ["onestack.network"])
    try:
        manager = NetworkManager(NetworkSettings(), db, Enforcer(policies.RULES))
        with pytest.raises(NotSupported) as caught:
            manager.setup_instance_network(str(uuid.uuid4()), [])
        assert caught.value.code == 501
        assert "not supported" in str(caught.value)
        manager.teardown_instance_network(str(uuid.uuid4()))  # nothing to do, no error
    finally:
        db.dispose()


def _eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_the_agent_applies_each_change(built: Built, loop_thread: LoopThread) -> None:
    loop_thread.run(built.manager.start_agent())
    try:
        assert len(built.plane.applied) == 1  # the first pass runs before start returns
        network = built.manager.networks.create(built.ctx, {"name": "woken"})
        assert _eventually(lambda: network.id in built.plane.applied[-1].networks)
        agent = built.manager.core.agent
        assert agent is not None
        assert agent.wait_for_pass(10)
        assert built.manager.agents(RequestContext.admin())[0]["alive"] is True
    finally:
        loop_thread.run(built.manager.stop_agent())
    assert built.manager.core.agent is None
    passes = len(built.plane.applied)
    built.manager.networks.create(built.ctx, {"name": "after-stop"})
    time.sleep(0.2)  # nothing may happen: there is no condition to wait for
    assert len(built.plane.applied) == passes


def test_a_failing_pass_is_logged_and_the_next_one_runs(
    built: Built, loop_thread: LoopThread, caplog: pytest.LogCaptureFixture
) -> None:
    failures = [RuntimeError("bridge exploded")]
    original = built.plane.apply

    def flaky(desired: Desired) -> None:
        if failures and len(built.plane.applied) == 1:
            raise failures.pop()
        original(desired)

    built.plane.apply = flaky  # type: ignore[method-assign]
    loop_thread.run(built.manager.start_agent())
    try:
        with caplog.at_level(logging.ERROR, logger="onestack.common.periodic"):
            network = built.manager.networks.create(built.ctx, {"name": "retried"})
            assert _eventually(
                lambda: bool(built.plane.applied) and network.id in built.plane.applied[-1].networks
            )
        failed = [r for r in caplog.records if "network-agent" in r.getMessage()]
        assert failed and failed[0].exc_info is not None
        assert "bridge exploded" in str(failed[0].exc_info[1])
    finally:
        loop_thread.run(built.manager.stop_agent())
