"""Regions, services and endpoints, and the catalog tokens carry."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions as sdk_exc

from tests.functional.identity.helpers import Client, assert_error, issue, token, unique
from tests.support.server import RunningCloud


def test_service_and_endpoint_reach_the_catalog(cloud: RunningCloud, admin: Any) -> None:
    kind = unique("kind")
    service = admin.identity.create_service(type=kind, name="svc", description="test service")
    region = admin.identity.create_region(id=unique("Region"), description="second")
    try:
        endpoint = admin.identity.create_endpoint(
            service_id=service.id,
            interface="public",
            url="http://198.51.100.1:1/x",
            region_id=region.id,
        )
        assert endpoint.region_id == region.id and endpoint.is_enabled
        catalog = issue(
            cloud,
            "admin",
            cloud.admin_password,
            {"project": {"name": "admin", "domain": {"id": "default"}}},
        ).json()["token"]["catalog"]
        entry = next(e for e in catalog if e["type"] == kind)
        assert entry["endpoints"][0]["url"] == "http://198.51.100.1:1/x"
        assert entry["endpoints"][0]["region_id"] == region.id
        listed = list(admin.identity.endpoints(service_id=service.id, interface="public"))
        assert [e.id for e in listed] == [endpoint.id]
        updated = admin.identity.update_endpoint(endpoint, url="http://198.51.100.2:2/y")
        assert updated.url == "http://198.51.100.2:2/y"
        admin.identity.update_service(service, is_enabled=False)
        catalog = Client(cloud, token(cloud)).get("/auth/catalog").json()["catalog"]
        assert kind not in {e["type"] for e in catalog}
        admin.identity.delete_endpoint(endpoint)
        with pytest.raises(sdk_exc.NotFoundException):
            admin.identity.get_endpoint(endpoint.id)
    finally:
        admin.identity.delete_service(service)
        admin.identity.delete_region(region)


def test_region_tree(cloud: RunningCloud) -> None:
    client = Client(cloud, token(cloud))
    parent, child = unique("P"), unique("C")
    assert client.put(f"/regions/{parent}", json={"region": {}}).status_code == 201
    created = client.post("/regions", json={"region": {"id": child, "parent_region_id": parent}})
    assert created.json()["region"]["parent_region_id"] == parent
    assert [
        r["id"]
        for r in client.get("/regions", params={"parent_region_id": parent}).json()["regions"]
    ] == [child]
    assert_error(
        client.patch(f"/regions/{parent}", json={"region": {"parent_region_id": child}}),
        400,
        "ancestor",
    )
    assert_error(client.delete(f"/regions/{parent}"), 403)
    assert_error(client.post("/regions", json={"region": {"id": child}}), 409)
    assert client.delete(f"/regions/{child}").status_code == 204
    assert client.delete(f"/regions/{parent}").status_code == 204


def test_bad_endpoint_interface_is_400(cloud: RunningCloud, admin: Any) -> None:
    client = Client(cloud, token(cloud))
    service = next(iter(admin.identity.services(type="identity")))
    assert_error(
        client.post(
            "/endpoints",
            json={
                "endpoint": {"service_id": service.id, "interface": "sideways", "url": "http://x"}
            },
        ),
        400,
        "interface",
    )
    assert_error(
        client.post(
            "/endpoints",
            json={
                "endpoint": {
                    "service_id": "no-such-service",
                    "interface": "public",
                    "url": "http://x",
                }
            },
        ),
        404,
    )
