"""A cloud's trace on the host: what belongs to it by path, and how it is told."""

from __future__ import annotations

from pathlib import Path

from onestack import lifecycle
from onestack.lifecycle import Process, Trace


def test_paths_inside_a_state_directory_and_not_its_namesakes() -> None:
    assert lifecycle._inside("/tmp/c/cloud-1", "/tmp/c/cloud-1")
    assert lifecycle._inside("/tmp/c/cloud-1/volume/pool", "/tmp/c/cloud-1")
    assert not lifecycle._inside("/tmp/c/cloud-10/volume/pool", "/tmp/c/cloud-1")
    assert not lifecycle._inside("/tmp/c", "/tmp/c/cloud-1")


def test_an_empty_trace_says_nothing_is_there() -> None:
    assert Trace().empty()
    assert Trace().summary() == "nothing"
    assert Trace().instances == []


def test_a_trace_counts_what_it_holds_and_names_its_instances() -> None:
    found = Trace(
        namespaces=["osnet-a", "osrtr-b"],
        links=["osx-c"],
        processes=[Process(10, "dnsmasq"), Process(11, "init", "id-2"), Process(12, "sh", "id-1")],
        mounts=["/s/volume/pool"],
        cgroups=[Path("/sys/fs/cgroup/memory/onestack-id-1")],
    )
    assert not found.empty()
    assert found.summary() == ("2 namespaces, 1 host link, 3 processes, 1 mount, 1 cgroup")
    assert found.instances == ["id-1", "id-2"]
    assert "process 11 init (instance id-2)" in found.lines()
    assert "host link osx-c" in found.lines()
