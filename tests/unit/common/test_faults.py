"""The fault store: matching, counting, expiry, agents down, and the pipeline step."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestack.common.db import Database
from onestack.common.errors import ErrorStyle, render_exception
from onestack.common.exceptions import BadRequest
from onestack.common.faults import FaultKind, FaultSpec, FaultStore, injected_error
from onestack.common.migrations import upgrade


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[FaultStore]:
    db = Database(f"sqlite:///{tmp_path / 'faults.db'}")
    upgrade(db, [])
    try:
        yield FaultStore(db)
    finally:
        db.dispose()


def spec(**body: object) -> FaultSpec:
    return FaultSpec.parse({"fault": body})


def test_an_api_fault_matches_service_method_path_and_project(store: FaultStore) -> None:
    store.add(spec(service="compute", method="post", path="/servers$", project_id="p1"))
    assert store.match_request("compute", "POST", "/v2.1/servers", "p1") is not None
    assert store.match_request("compute", "GET", "/v2.1/servers", "p1") is None
    assert store.match_request("compute", "POST", "/v2.1/servers/x", "p1") is None
    assert store.match_request("compute", "POST", "/v2.1/servers", "p2") is None
    assert store.match_request("network", "POST", "/v2.1/servers", "p1") is None


def test_a_counted_fault_is_used_up_and_then_removed(store: FaultStore) -> None:
    made = store.add(spec(service="image", count=2))
    assert [store.match_request("image", "GET", "/v2/images", None) is not None
            for _ in range(3)] == [True, True, False]  # fmt: skip
    assert store.list_faults() == []
    assert made.remaining == 2


def test_a_fault_expires(store: FaultStore) -> None:
    store.add(spec(service="image", ttl=1))
    assert store.maybe_active("image") and not store.maybe_active("compute")
    assert store.match_request("image", "GET", "/", None) is not None
    time.sleep(1.1)
    assert store.match_request("image", "GET", "/", None) is None
    assert store.list_faults() == []


def test_probability_zero_never_fires(store: FaultStore) -> None:
    store.add(spec(service="image", probability=0))
    assert all(store.match_request("image", "GET", "/", None) is None for _ in range(20))


def test_asynchronous_faults_are_taken_once_per_operation(store: FaultStore) -> None:
    store.add(spec(kind="build", count=1, project_id="p1"))
    assert store.take(FaultKind.BUILD, "p2") is None
    taken = store.take(FaultKind.BUILD, "p1")
    assert taken is not None
    assert taken.reason() == "There are not enough hosts available."
    assert store.take(FaultKind.BUILD, "p1") is None


def test_agent_down_for_one_host_or_every_host(store: FaultStore) -> None:
    assert store.hosts_down("volume") == set()
    store.add(spec(kind="agent_down", service="volume", host="h1"))
    assert store.agent_down("volume", "h1@file")
    assert not store.agent_down("volume", "h2@file")
    assert not store.agent_down("compute", "h1")
    store.add(spec(kind="agent_down", service="volume"))
    assert store.hosts_down("volume") is None and store.agent_down("volume", "h2")
    assert store.clear() == 2 and not store.agent_down("volume", "h1")


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "nothing"},
        {"service": "dashboard"},
        {"service": "compute", "status": 302},
        {"service": "compute", "status": 0},
        {"service": "compute", "delay": 301},
        {"service": "compute", "count": 1.5},
        {"service": "compute", "method": "GET /x"},
        {"kind": "build", "service": "volume"},
    ],
)
def test_bad_specs_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        FaultSpec.parse(body)


def test_injected_errors_render_in_each_services_format() -> None:
    error = injected_error(503, "")
    status, body, _ = render_exception(ErrorStyle.NOVA, error, None)
    assert status == 503 and b'"serviceUnavailable"' in body
    status, body, _ = render_exception(ErrorStyle.NEUTRON, injected_error(409, "busy"), None)
    assert status == 409 and b'"type": "Conflict"' in body.replace(b'":"', b'": "')
    status, body, _ = render_exception(ErrorStyle.KEYSTONE, injected_error(500, "x"), None)
    assert status == 500 and b'"title": "Internal Server Error"' in body.replace(b'":"', b'": "')


def test_a_fault_acts_on_its_own_cloud_only(tmp_path: Path, store: FaultStore) -> None:
    other_db = Database(f"sqlite:///{tmp_path / 'other-cloud.db'}")
    upgrade(other_db, [])
    try:
        other = FaultStore(other_db)
        store.add(spec(service="compute"))
        store.add(spec(kind="agent_down", service="compute"))
        assert store.match_request("compute", "GET", "/servers", None) is not None
        assert other.match_request("compute", "GET", "/servers", None) is None
        assert not other.maybe_active("compute")
        assert not other.agent_down("compute", "host-1")
    finally:
        other_db.dispose()
