"""The compute agent's power-state sync against a build that finishes under it."""

from __future__ import annotations

import uuid
from pathlib import Path

from onestack.common.db import Base, Database
from onestack.compute import states
from onestack.compute.conf import ComputeSettings
from onestack.compute.drivers.fake import FakeComputeDriver
from onestack.compute.locks import InstanceLocks
from onestack.compute.models import Instance, InstanceFault
from onestack.compute.power_sync import PowerStateSync
from onestack.compute.states import PowerState


class LateListing(FakeComputeDriver):
    """Its listing was taken before a build that then started the instance."""

    def list_instances(self) -> dict[str, PowerState]:
        return {}

    def get_power_state(self, instance_id: str) -> PowerState:
        return super().list_instances().get(instance_id, PowerState.NOSTATE)


def _agent(tmp_path: Path, driver_class: type[FakeComputeDriver]) -> PowerStateSync:
    db = Database(f"sqlite:///{tmp_path / 'sync.db'}")
    Base.metadata.create_all(db.engine)
    driver = driver_class(ComputeSettings(), tmp_path, "h1")
    return PowerStateSync(db, "h1", driver, InstanceLocks(), destroy=driver.destroy)


def _active_instance(agent: PowerStateSync) -> str:
    instance_id = str(uuid.uuid4())
    with agent.db.writer() as session:
        session.add(
            Instance(
                id=instance_id, name="i", project_id="p", user_id="u", hostname="i",
                flavor={}, flavor_id="1", vcpus=1, memory_mb=64, root_gb=1,
                vm_state=states.ACTIVE, task_state=None, power_state=PowerState.RUNNING,
                host="h1", reservation_id="r",
            )
        )  # fmt: skip
    return instance_id


def test_a_stale_listing_does_not_fail_a_running_instance(tmp_path: Path) -> None:
    agent = _agent(tmp_path, LateListing)
    instance_id = _active_instance(agent)
    agent.driver._set(instance_id, PowerState.RUNNING)  # the build started it
    agent.sync_all(at_start=False)
    with agent.db.reader() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        assert (instance.vm_state, instance.power_state) == (states.ACTIVE, PowerState.RUNNING)
        assert session.query(InstanceFault).count() == 0


def test_an_instance_that_is_really_gone_goes_to_error(tmp_path: Path) -> None:
    agent = _agent(tmp_path, FakeComputeDriver)
    instance_id = _active_instance(agent)
    agent.sync_all(at_start=False)
    with agent.db.reader() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        assert instance.vm_state == states.ERROR
        fault = session.query(InstanceFault).one()
        assert "disappeared" in fault.message


class CountingDriver(FakeComputeDriver):
    asked = 0

    def get_power_state(self, instance_id: str) -> PowerState:
        CountingDriver.asked += 1
        return super().get_power_state(instance_id)


def test_an_agreeing_listing_needs_no_second_look(tmp_path: Path) -> None:
    agent = _agent(tmp_path, CountingDriver)
    instance_id = _active_instance(agent)
    agent.driver._set(instance_id, PowerState.RUNNING)
    CountingDriver.asked = 0
    agent.sync_all(at_start=False)
    assert CountingDriver.asked == 0  # one listing for the host, not one runc call each
    with agent.db.reader() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None and instance.vm_state == states.ACTIVE


def test_a_restart_during_unshelve_leaves_the_server_shelved(tmp_path: Path) -> None:
    agent = _agent(tmp_path, FakeComputeDriver)
    instance_id = _active_instance(agent)
    with agent.db.writer() as session:
        row = session.get(Instance, instance_id)
        assert row is not None
        row.vm_state, row.task_state = states.SHELVED_OFFLOADED, states.SPAWNING
    agent.sync_all(at_start=True)  # nothing runs: the spawn never happened
    with agent.db.reader() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        assert (instance.vm_state, instance.task_state) == (states.SHELVED_OFFLOADED, None)
