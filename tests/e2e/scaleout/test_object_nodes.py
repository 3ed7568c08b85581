"""Object storage on three storage nodes (``onestack cluster``, hosts with the object role).

Each host serves two ring devices over HTTP; the controller's ring has one zone per
host, so an object's three replicas land on three hosts, and the proxy on the
controller reaches them as Swift's proxy reaches its object servers.  With one node
stopped every object still reads back and new writes succeed (on handoff devices);
when it returns, the controller's replicator brings every replica back to the
primaries and removes the handoff copies.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestack.cluster import HostSpec
from onestack.object.devices import RingDevices
from onestack.object.store import ObjectStore
from tests.support.cluster import RunningCluster, running_cluster, wait_for

HOSTS = [HostSpec(f"node-{n}", ("object",)) for n in (1, 2, 3)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCluster]:
    with running_cluster(
        tmp_path_factory.mktemp("objects"), HOSTS, driver="fake",
        ONESTACK_NETWORK__DATA_PLANE="off", ONESTACK_OBJECT__REPLICATOR_INTERVAL="1",
    ) as running:  # fmt: skip
        yield running


def _store(cluster: RunningCluster) -> ObjectStore:
    root = Path(cluster.state.state_dir) / "controller" / "object"
    return ObjectStore(root, RingDevices(root))


def _holders(store: ObjectStore, account: str, container: str, name: str) -> set[str]:
    return set(store.copies(account, container, name))


def _primaries(store: ObjectStore, account: str, container: str, name: str) -> set[str]:
    return {d.name for d in store.locate(account, container, name).primaries}


def _body(name: str, version: int = 0) -> bytes:
    return hashlib.sha256(f"{name}:{version}".encode()).digest() * 100


def test_objects_survive_a_stopped_node_and_converge(cluster: RunningCluster) -> None:
    conn = cluster.connect()
    store = _store(cluster)
    ring = store.ring
    zones = {d.name: d.zone for d in ring.devices}
    assert sorted(zones) == [f"node-{n}-d{d}" for n in (1, 2, 3) for d in (1, 2)]
    assert all(d.address.startswith("127.0.0.1:") for d in ring.devices)

    account = f"AUTH_{conn.current_project_id}"
    container = f"c-{uuid.uuid4().hex[:8]}"
    conn.object_store.create_container(container)
    names = [f"o-{i}" for i in range(20)]
    for name in names:
        conn.object_store.upload_object(container, name, data=_body(name))
    for name in names:  # three replicas in three zones: on three hosts
        holders = _holders(store, account, container, name)
        assert holders == _primaries(store, account, container, name)
        assert len({zones[h] for h in holders}) == 3

    cluster.cluster.stop_host("node-2")
    for name in names:  # reads go on
        assert conn.object_store.download_object(name, container=container) == _body(name)
    fresh = [f"n-{i}" for i in range(10)]
    for name in fresh:  # and so do writes, to handoffs for node-2's devices
        conn.object_store.upload_object(container, name, data=_body(name))
    conn.object_store.upload_object(container, names[0], data=_body(names[0], 1))
    on_handoffs = [
        n for n in fresh
        if _holders(store, account, container, n) != _primaries(store, account, container, n)
    ]  # fmt: skip
    assert on_handoffs, "no write needed a handoff (node-2 holds none of their replicas?)"
    for name in fresh:
        assert not any(h.startswith("node-2") for h in _holders(store, account, container, name))
        assert conn.object_store.download_object(name, container=container) == _body(name)

    cluster.cluster.start_host("node-2")

    def converged() -> bool:
        return all(
            _holders(store, account, container, n) == _primaries(store, account, container, n)
            for n in [*names, *fresh]
        )

    wait_for("every replica back on its primaries", converged, timeout=90)
    for name in fresh:
        assert conn.object_store.download_object(name, container=container) == _body(name)
    assert conn.object_store.download_object(names[0], container=container) == _body(names[0], 1)
    listed = {o.name for o in conn.object_store.objects(container)}
    assert listed == {*names, *fresh}
