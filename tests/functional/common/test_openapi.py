"""Every service's OpenAPI document is valid, and a schema-driven fuzz run over it
finds no 500 and no half-written record (issue 13).

The fuzz run is bounded: a fixed number of reproducible examples per operation
(``tests.support.fuzz``), on a cloud of its own so that what it creates disturbs
no other test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from tests.support.fuzz import Findings, RowCounts, fuzz_operation, operations
from tests.support.server import RunningCloud, new_cloud

#: service -> (the prefix of its tables, tables written in the background)
SERVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "identity": ("identity_", ()),
    "image": ("image_", ()),
    "compute": ("compute_", ()),
    "network": ("network_", ()),
    "volume": ("volume_", ()),
    "object": ("object_", ()),
    "s3": ("object_", ()),
    "orchestration": ("orchestration_", ("orchestration_events",)),
    "telemetry": (
        "telemetry_",
        ("telemetry_raw", "telemetry_aggregates", "telemetry_resource_history"),
    ),
    "alarming": ("alarming_", ("alarming_history", "alarming_counters")),
}

#: What each service's fuzz run reads first: a project's default security group is
#: made by its first listing (as Neutron does), not by a refused create of the fuzz.
WARM_UP = {"network": ("/v2.0/security-groups",)}

#: examples per operation: with a described body, other mutations, reads
EXAMPLES_DESCRIBED, EXAMPLES_MUTATION, EXAMPLES_READ = 16, 6, 3
#: more for services with few operations that route many requests (Swift's /v1/...)
SERVICE_SCALE = {"object": 8.0, "s3": 2.0}
#: a longer run on demand: ONESTACK_FUZZ_SCALE=10 runs ten times the examples
SCALE = float(os.environ.get("ONESTACK_FUZZ_SCALE", "1"))


@pytest.fixture(scope="module")
def fuzz_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(tmp_path_factory.mktemp("fuzz")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def token(fuzz_cloud: RunningCloud) -> str:
    return str(fuzz_cloud.connect("admin", "admin").session.get_token())


@pytest.fixture(scope="module")
def member(fuzz_cloud: RunningCloud) -> tuple[str, tuple[str, ...]]:
    """The demo member's token, and real ids of the demo project for path parameters:
    its project and user, its Swift account, a container and an object in it, a network
    and its default security group.  Admin's own ids are not offered, so that the fuzz
    run cannot disable or delete the admin it runs as."""
    demo = fuzz_cloud.connect("demo", "demo")
    project, user = str(demo.current_project_id), str(demo.current_user_id)
    network = demo.network.create_network(name="fuzz-net")
    groups = [g.id for g in demo.network.security_groups(project_id=project)]
    token = str(demo.session.get_token())
    swift = f"{fuzz_cloud.url('object')}/v1/AUTH_{project}"
    assert httpx.put(f"{swift}/fuzz", headers={"X-Auth-Token": token}).status_code == 201
    put = httpx.put(f"{swift}/fuzz/obj", content=b"x", headers={"X-Auth-Token": token})
    assert put.status_code == 201
    known = (
        project, user, f"AUTH_{project}", f"AUTH_{project}/fuzz", f"AUTH_{project}/fuzz/obj",
        "default", network.id, *groups,
    )  # fmt: skip
    return token, known


def _document(cloud: RunningCloud, service: str) -> dict[str, Any]:
    response = httpx.get(f"{cloud.url(service)}/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_openapi_document_is_valid(fuzz_cloud: RunningCloud, service: str) -> None:
    document = _document(fuzz_cloud, service)
    validate(document)
    assert document["paths"]


def test_routes_with_a_schema_describe_their_request_bodies(fuzz_cloud: RunningCloud) -> None:
    identity = _document(fuzz_cloud, "identity")
    project = identity["paths"]["/v3/projects"]["post"]["requestBody"]
    schema = project["content"]["application/json"]["schema"]
    assert schema["required"] == ["project"]
    assert "name" in schema["properties"]["project"]["properties"]
    compute = _document(fuzz_cloud, "compute")
    flavor = compute["paths"]["/v2.1/flavors"]["post"]["requestBody"]
    assert (
        "ram"
        in flavor["content"]["application/json"]["schema"]["properties"]["flavor"]["properties"]
    )
    volume = _document(fuzz_cloud, "volume")
    assert "requestBody" in volume["paths"]["/v3/volumes"]["post"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_fuzzing_finds_no_500_and_no_half_written_record(
    fuzz_cloud: RunningCloud, token: str, member: tuple[str, tuple[str, ...]], service: str
) -> None:
    prefix, volatile = SERVICES[service]
    counts = RowCounts(fuzz_cloud.state_dir / "onestack.db", prefix, volatile)
    findings = Findings()
    base = fuzz_cloud.url(service)
    try:
        with httpx.Client(headers={"X-Auth-Token": token}, timeout=60) as client:
            for path in WARM_UP.get(service, ()):
                assert client.get(base + path).status_code == 200
            for operation in operations(service, _document(fuzz_cloud, service)):
                if operation.body_schema is not None:
                    examples = EXAMPLES_DESCRIBED
                elif operation.method in ("put", "post", "patch", "delete"):
                    examples = EXAMPLES_MUTATION
                else:
                    examples = EXAMPLES_READ
                examples = max(1, round(examples * SCALE * SERVICE_SCALE.get(service, 1.0)))
                fuzz_operation(
                    client, base, operation, counts, findings, examples,
                    known=member[1], tokens=(None, None, member[0], ""),
                )  # fmt: skip
    finally:
        counts.close()
    assert findings.requests > 0
    print(f"{service}: {findings.requests} requests")  # shown with -s or -rA
    assert findings.failures == [], "\n".join(findings.failures[:40])
