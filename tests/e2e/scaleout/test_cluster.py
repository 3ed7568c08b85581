"""A controller and three hosts on PostgreSQL and RabbitMQ (``onestack cluster``).

host-1 has the network and compute roles, host-2 compute and volume, host-3
compute only.  Each
host is a process of its own with its own state directory and its data plane in
namespaces of its own (underlay addresses 100.64.0.11-13 on a bridge of the
cluster's own); the servers are real containers.  The tests run in order on one
cluster: placement and packets first, then one host after another stops and
comes back (liveness timers are short here: down after 6 s instead of 60/75).
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openstack.exceptions import BadRequestException

from onestack.cluster import HostSpec
from tests.support.cluster import DOWN_TIME, RunningCluster, running_cluster, wait_for

HOSTS = [
    HostSpec("host-1", ("compute", "network")),
    HostSpec("host-2", ("compute", "volume")),
    HostSpec("host-3", ("compute",)),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCluster]:
    with running_cluster(tmp_path_factory.mktemp("scaleout"), HOSTS) as running:
        yield running


@pytest.fixture(scope="module")
def conn(cluster: RunningCluster) -> Any:
    return cluster.connect()


@pytest.fixture(scope="module")
def tenant(conn: Any) -> dict[str, Any]:
    """A network with a router to ``public`` and three servers of an anti-affinity group."""
    name = f"so-{uuid.uuid4().hex[:6]}"
    network = conn.network.create_network(name=name)
    subnet = conn.network.create_subnet(
        network_id=network.id, ip_version=4, cidr="10.81.0.0/24", name=name
    )
    public = conn.network.find_network("public")
    router = conn.network.create_router(name=name, external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    group = conn.compute.create_server_group(name=name, policy="anti-affinity")
    image = conn.image.find_image("onestack-busybox")
    servers = []
    for index in range(3):
        server = conn.compute.create_server(
            name=f"{name}-{index}", image_id=image.id, flavor_id="42",
            networks=[{"uuid": network.id}], scheduler_hints={"group": group.id},
        )  # fmt: skip
        servers.append(conn.compute.wait_for_server(server, interval=0.2, wait=120))
    return {"network": network, "subnet": subnet, "router": router, "servers": servers}


def _vm(server: Any) -> str:
    return f"osvm-{server.id}"


def _ip(server: Any) -> str:
    return str(next(iter(server.addresses.values()))[0]["addr"])


def _compute_state(conn: Any, host: str) -> str:
    service = next(s for s in conn.compute.services() if s.host == host)
    return str(service.state)


def _agents(conn: Any, host: str) -> dict[str, bool]:
    return {a.agent_type: a.is_alive for a in conn.network.agents(host=host)}


def test_every_host_registered_with_its_roles(cluster: RunningCluster, conn: Any) -> None:
    computes = {s.host: s.state for s in conn.compute.services(binary="nova-compute")}
    assert computes == {"host-1": "up", "host-2": "up", "host-3": "up"}
    assert {h.name for h in conn.compute.hypervisors()} == {"host-1", "host-2", "host-3"}
    assert _agents(conn, "host-1") == {
        "Linux bridge agent": True, "DHCP agent": True, "L3 agent": True, "Metadata agent": True,
    }  # fmt: skip
    assert _agents(conn, "host-2") == {"Linux bridge agent": True}
    tunnels = {
        a.host: a.configuration["tunneling_ip"]
        for a in conn.network.agents(agent_type="Linux bridge agent")
    }
    assert tunnels == {"host-1": "100.64.0.11", "host-2": "100.64.0.12", "host-3": "100.64.0.13"}


def test_anti_affinity_servers_land_apart_and_ping_across_hosts(
    cluster: RunningCluster, conn: Any, tenant: dict[str, Any]
) -> None:
    servers = tenant["servers"]
    assert sorted(s.compute_host for s in servers) == ["host-1", "host-2", "host-3"]
    # the ports are bound where the servers run, with the Linux bridge's VIF type
    for server in servers:
        (port,) = conn.network.ports(device_id=server.id)
        assert (port.binding_host_id, port.binding_vif_type) == (server.compute_host, "bridge")
    for server in servers:  # the address came by DHCP from host-1, over VXLAN for the others
        wait_for(
            f"{server.name} took its address",
            lambda s=server: _ip(s) in cluster.sh(_vm(s), "ip -4 -o addr show eth0").stdout,
        )
    for source in servers:
        for target in servers:
            if source is not target:
                assert wait_for(
                    f"{source.compute_host} reaches {target.compute_host}",
                    lambda s=source, t=target: cluster.ping(_vm(s), _ip(t)),
                    timeout=20,
                )
    # the packets crossed the underlay: each host has the network's tunnel with entries
    # toward the other hosts' endpoints
    scope = cluster.host("host-2")["scope"]
    fdb = cluster.sh(f"osnet-{scope}-{tenant['network'].id}", "bridge fdb show dev vxlan0").stdout
    assert "dst 100.64.0.11" in fdb and "dst 100.64.0.13" in fdb


def test_floating_ip_and_security_groups_across_hosts(
    cluster: RunningCluster, conn: Any, tenant: dict[str, Any]
) -> None:
    by_host = {s.compute_host: s for s in tenant["servers"]}
    far = by_host["host-3"]  # the router runs on host-1
    (router_agent,) = conn.network.routers_hosting_l3_agents(tenant["router"])
    assert router_agent.host == "host-1"
    name = f"so-sg-{uuid.uuid4().hex[:6]}"
    closed = conn.network.create_security_group(name=name)
    conn.compute.add_security_group_to_server(far, closed)
    default = conn.network.find_security_group("default", project_id=conn.current_project_id)
    conn.compute.remove_security_group_from_server(far, default)
    public = conn.network.find_network("public")
    (port,) = conn.network.ports(device_id=far.id)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    address = fip.floating_ip_address
    outside = cluster.host("host-1")["netns"]  # host-1's own address on `public`
    neighbour = by_host["host-2"]
    # no ingress rule: neither the outside nor a server on another host gets through
    wait_for("the new group applied", lambda: not cluster.ping(_vm(neighbour), _ip(far)), 20)
    assert not cluster.ping(outside, address)
    conn.network.create_security_group_rule(
        security_group_id=closed.id, direction="ingress", protocol="icmp",
        remote_ip_prefix="0.0.0.0/0",
    )  # fmt: skip
    wait_for("the floating IP answers", lambda: cluster.ping(outside, address), 20)
    wait_for("the neighbour gets through", lambda: cluster.ping(_vm(neighbour), _ip(far)), 20)


def test_a_volume_host_backs_up_to_the_controllers_object_storage(conn: Any) -> None:
    bs = conn.block_storage
    container = f"so-{uuid.uuid4().hex[:6]}"
    volume = bs.create_volume(size=1, name=container)
    volume = bs.wait_for_status(volume, "available", interval=0.2, wait=60)
    assert volume.host.split("@")[0] == "host-2"
    backup = bs.create_backup(volume_id=volume.id, container=container)
    backup = bs.wait_for_status(backup, "available", interval=0.2, wait=120)
    assert backup.container == container
    # host-2 wrote the backup into the owner's account as the volume service's user
    names = [o.name for o in conn.object_store.objects(container)]
    assert names == [f"backup_{backup.id}/manifest.json"]  # a blank volume: zeros only
    bs.delete_backup(backup)
    bs.wait_for_delete(backup, interval=0.2, wait=60)
    assert list(conn.object_store.objects(container)) == []
    conn.object_store.delete_container(container)
    bs.delete_volume(volume)


def test_volumes_attach_only_on_their_own_host(
    cluster: RunningCluster, conn: Any, tenant: dict[str, Any]
) -> None:
    by_host = {s.compute_host: s for s in tenant["servers"]}
    volume = conn.block_storage.create_volume(size=1, name=f"so-{uuid.uuid4().hex[:6]}")
    volume = conn.block_storage.wait_for_status(volume, "available", interval=0.2, wait=60)
    assert volume.host.split("@")[0] == "host-2"
    with pytest.raises(BadRequestException) as refused:
        conn.compute.create_volume_attachment(by_host["host-3"], volume_id=volume.id)
    assert "attaches only to servers on its own host" in str(refused.value)
    assert conn.block_storage.get_volume(volume.id).status == "available"
    conn.compute.create_volume_attachment(by_host["host-2"], volume_id=volume.id)
    conn.block_storage.wait_for_status(volume, "in-use", interval=0.2, wait=60)
    # the device is in the server on host-2
    (attachment,) = conn.compute.volume_attachments(by_host["host-2"])
    conn.compute.delete_volume_attachment(attachment, by_host["host-2"])
    conn.block_storage.wait_for_status(volume, "available", interval=0.2, wait=60)
    conn.block_storage.delete_volume(volume)


def test_a_stopped_compute_host_goes_down_and_comes_back(
    cluster: RunningCluster, conn: Any, tenant: dict[str, Any]
) -> None:
    running = next(s for s in tenant["servers"] if s.compute_host == "host-3")
    image = conn.image.find_image("onestack-busybox")
    victim = conn.compute.create_server(
        name="so-victim", image_id=image.id, flavor_id="42", networks="none",
        availability_zone="nova:host-3",
    )  # fmt: skip
    victim = conn.compute.wait_for_server(victim, interval=0.2, wait=120)
    cluster.cluster.stop_host("host-3")
    wait_for("host-3 down", lambda: _compute_state(conn, "host-3") == "down", DOWN_TIME + 10)
    wait_for(
        "host-3's L2 agent not alive",
        lambda: not _agents(conn, "host-3")["Linux bridge agent"],
        DOWN_TIME + 10,
    )
    # new servers avoid it; with host-2 disabled as well, they all go to host-1
    for index in range(2):
        server = conn.compute.create_server(
            name=f"so-new-{index}", image_id=image.id, flavor_id="42", networks="none"
        )
        server = conn.compute.wait_for_server(server, interval=0.2, wait=120)
        assert server.compute_host in ("host-1", "host-2")
        conn.compute.delete_server(server)
    host_2 = next(s for s in conn.compute.services(binary="nova-compute") if s.host == "host-2")
    conn.compute.disable_service(host_2, disabled_reason="e2e")
    try:
        for index in range(3):
            server = conn.compute.create_server(
                name=f"so-one-{index}", image_id=image.id, flavor_id="42", networks="none"
            )
            server = conn.compute.wait_for_server(server, interval=0.2, wait=120)
            assert server.compute_host == "host-1"
            conn.compute.delete_server(server)
    finally:
        conn.compute.enable_service(host_2)
    # its instances keep running without it
    source = next(s for s in tenant["servers"] if s.compute_host == "host-1")
    assert cluster.ping(_vm(source), _ip(running))
    # one dies while its host is away: the host finds out when it returns
    runc_root = Path(cluster.host("host-3")["state_dir"]) / "compute" / "runc"
    subprocess.run(["runc", "--root", str(runc_root), "kill", victim.id, "KILL"], check=True)
    cluster.cluster.start_host("host-3")
    wait_for("host-3 up", lambda: _compute_state(conn, "host-3") == "up", 30)
    wait_for(
        "the dead instance reconciled",
        lambda: conn.compute.get_server(victim.id).status == "SHUTOFF",
        30,
    )
    assert conn.compute.get_server(running.id).status == "ACTIVE"
    assert cluster.ping(_vm(source), _ip(running))
    conn.compute.delete_server(victim)


def test_a_stopped_network_host_goes_down_and_comes_back(
    cluster: RunningCluster, conn: Any, tenant: dict[str, Any]
) -> None:
    servers = {s.compute_host: s for s in tenant["servers"]}
    near, other = servers["host-1"], servers["host-2"]
    assert cluster.ping(_vm(other), _ip(near))
    quiet = conn.network.create_security_group(name=f"so-quiet-{uuid.uuid4().hex[:6]}")
    cluster.cluster.stop_host("host-1")
    wait_for(
        "host-1's agents down",
        lambda: not any(_agents(conn, "host-1").values()),
        DOWN_TIME + 10,
    )
    # the data plane it built stays: its router, its tunnels, its servers' ports
    assert cluster.ping(_vm(other), _ip(servers["host-3"]))
    assert cluster.ping(_vm(other), "10.81.0.1")
    assert cluster.ping(_vm(other), _ip(near))
    # a change made while it is away: its server's only group now lets nothing in
    default = conn.network.find_security_group("default", project_id=conn.current_project_id)
    conn.compute.add_security_group_to_server(near, quiet)
    conn.compute.remove_security_group_from_server(near, default)
    cluster.cluster.start_host("host-1")
    wait_for("host-1's agents alive", lambda: all(_agents(conn, "host-1").values()), 30)
    # resynced at its return: the new group holds on host-1's bridge
    wait_for("the change applied", lambda: not cluster.ping(_vm(other), _ip(near)), 30)
    assert cluster.ping(_vm(near), "10.81.0.1")
