"""One contract for every network data plane: none always, linux as root.

Each test states what holds for any data plane, read through its
capabilities: what a data plane says it builds is on the host after
``apply`` and gone after an ``apply`` without it; what it does not build is
never there; plugging an instance works exactly when ``instance_ports`` is
set, and answers the service's 501 otherwise.  The Linux data plane works on
namespaces with fresh random ids and a registry in a temporary state
directory, and everything it made is removed again, also when a test fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onestack.network.driver import (
    DataPlaneCapabilities,
    InstancePlug,
    NetworkDataPlane,
    Presence,
)
from onestack.network.drivers.noop import NoDataPlane
from onestack.network.exceptions import NotSupported
from onestack.network.interface import FixedIP, PortInfo
from onestack.network.topology import (
    Desired,
    NetworkState,
    PortState,
    RouterState,
    SubnetState,
)
from tests.unit.network.conftest import LoopThread


@dataclass
class Plane:
    plane: NetworkDataPlane
    caps: DataPlaneCapabilities


def _linux_missing() -> str:
    from onestack.network.drivers.linux.commands import missing_tools

    return missing_tools()


@pytest.fixture(params=["none", pytest.param("linux", marks=pytest.mark.root)])
def plane(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    loop_thread: LoopThread,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Plane]:
    # the registry lives in the host-wide owner records: this test's own, in its directory
    monkeypatch.setenv("ONESTACK_OWNERS_DIR", str(tmp_path / "owners"))
    if request.param == "none":
        created: NetworkDataPlane = NoDataPlane("contract test")
    else:
        missing = _linux_missing()
        if missing and not os.environ.get("CI"):
            pytest.skip(f"the Linux data plane needs root and its tools ({missing})")
        from onestack.network.drivers.linux.driver import LinuxDataPlane

        created = LinuxDataPlane(tmp_path / "state")
    loop_thread.run(created.start())
    try:
        yield Plane(created, created.capabilities())
    finally:
        _clean(created, loop_thread)


def _clean(created: NetworkDataPlane, loop_thread: LoopThread) -> None:
    """Remove everything the data plane made, whatever the test left."""
    for instance_id in created.present().instances:
        created.unplug_instance(instance_id)
    created.apply(Desired())
    loop_thread.run(created.stop())
    if created.name == "linux":
        from onestack.network.drivers.linux import commands
        from onestack.network.drivers.linux.driver import LinuxDataPlane

        assert isinstance(created, LinuxDataPlane)
        for name in created.registry.names() & commands.namespaces():
            for pid in commands.pids_in(name):
                os.kill(pid, 9)
            commands.delete_netns(name)


def _network(with_dhcp: bool = True) -> tuple[NetworkState, str]:
    """A network with one IPv4 subnet (and its DHCP port); returns it and the subnet id."""
    net_id, subnet_id, dhcp_port = (str(uuid.uuid4()) for _ in range(3))
    third = uuid.UUID(net_id).int % 200 + 20
    subnet = SubnetState(subnet_id, f"10.{third}.7.0/24", 4, f"10.{third}.7.1", with_dhcp, (), ())
    ports = ()
    if with_dhcp:
        ports = (
            PortState(dhcp_port, net_id, "fa:16:3e:aa:00:02", ((f"10.{third}.7.2", subnet_id),),
                      "network:dhcp", f"dhcp-{net_id}", False, (), ()),
        )  # fmt: skip
    return NetworkState(net_id, 1500, False, False, (subnet,), ports), subnet_id


def _router(net: NetworkState, subnet_id: str) -> RouterState:
    port_id = str(uuid.uuid4())
    gateway = net.subnets[0].gateway
    assert gateway is not None
    leg = PortState(port_id, net.id, "fa:16:3e:aa:00:01", ((gateway, subnet_id),),
                    "network:router_interface", "router", False, (), ())  # fmt: skip
    return RouterState(
        id=str(uuid.uuid4()), admin_up=True, enable_snat=True, gateway=None, gateway_mtu=1500,
        external_gateways=(), interfaces=((leg, net.mtu),),
        internal_cidrs=((subnet_id, net.subnets[0].cidr),), routes=(), floating=(),
    )  # fmt: skip


def _port_info(net: NetworkState, subnet_id: str) -> PortInfo:
    subnet = net.subnets[0]
    address = subnet.cidr.replace(".0/24", ".10")
    fixed = FixedIP(address, subnet_id, subnet.cidr, subnet.gateway, 4)
    return PortInfo(
        id=str(uuid.uuid4()),
        network_id=net.id,
        network_name="contract",
        mac_address="fa:16:3e:aa:00:10",
        mtu=net.mtu,
        fixed_ips=(fixed,),
    )


def test_capabilities_are_typed_and_default_to_false() -> None:
    assert DataPlaneCapabilities() == DataPlaneCapabilities(
        switching=False, dhcp=False, routing=False, security_groups=False, metadata=False,
        instance_ports=False, host_address=False,
    )  # fmt: skip
    assert not DataPlaneCapabilities().anything
    assert DataPlaneCapabilities(dhcp=True).anything


def test_an_empty_state_applies_twice_and_leaves_nothing(plane: Plane) -> None:
    plane.plane.apply(Desired())
    plane.plane.apply(Desired())
    assert plane.plane.present() == Presence()


def test_a_network_is_built_exactly_when_the_plane_switches(plane: Plane) -> None:
    net, _ = _network()
    desired = Desired(networks={net.id: net})
    plane.plane.apply(desired)
    plane.plane.apply(desired)  # idempotent
    present = plane.plane.present()
    assert (net.id in present.networks) is plane.caps.switching
    assert (net.id in present.dhcp) is plane.caps.dhcp
    plane.plane.apply(Desired())
    present = plane.plane.present()
    assert net.id not in present.networks
    assert net.id not in present.dhcp


def test_a_network_without_dhcp_gets_no_dhcp_server(plane: Plane) -> None:
    net, _ = _network(with_dhcp=False)
    plane.plane.apply(Desired(networks={net.id: net}))
    present = plane.plane.present()
    assert (net.id in present.networks) is plane.caps.switching
    assert net.id not in present.dhcp


def test_a_router_is_built_exactly_when_the_plane_routes(plane: Plane) -> None:
    net, subnet_id = _network()
    router = _router(net, subnet_id)
    plane.plane.apply(Desired(networks={net.id: net}, routers={router.id: router}))
    assert (router.id in plane.plane.present().routers) is plane.caps.routing
    plane.plane.apply(Desired(networks={net.id: net}))
    assert router.id not in plane.plane.present().routers


def test_instances_are_plugged_exactly_when_the_plane_has_instance_ports(plane: Plane) -> None:
    net, subnet_id = _network()
    plane.plane.apply(Desired(networks={net.id: net}))
    port = _port_info(net, subnet_id)
    instance_id = str(uuid.uuid4())
    plug = InstancePlug(instance_id, (port,))
    if not plane.caps.instance_ports:
        with pytest.raises(NotSupported) as caught:
            plane.plane.plug_instance(plug)
        assert caught.value.code == 501
        assert not plane.plane.instance_plugged(instance_id)
        plane.plane.unplug_instance(instance_id)  # nothing to remove: no error
        return
    path = plane.plane.plug_instance(plug)
    assert path == Path("/run/netns") / f"osvm-{instance_id}"
    assert plane.plane.plug_instance(plug) == path  # idempotent
    assert plane.plane.instance_plugged(instance_id)
    assert instance_id in plane.plane.present().instances
    from onestack.network.drivers.linux import commands

    link = commands.ip("-o", "link", "show", "eth0", netns=path.name)
    assert port.mac_address in link
    assert f"port:{port.id}" in link
    plane.plane.unplug_port(instance_id, port.id)
    assert "eth0" not in commands.links(path.name)
    plane.plane.unplug_instance(instance_id)
    plane.plane.unplug_instance(instance_id)  # already gone: no error
    assert not plane.plane.instance_plugged(instance_id)
    assert not path.exists()
