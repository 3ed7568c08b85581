"""Hostile bodies answer Cinder's 400 and create nothing (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.names import unique

JSON = {"Content-Type": "application/json"}


def _cinder_400(response: Any, fragment: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["badRequest"]
    assert error["code"] == 400
    assert fragment in error["message"], error


def _volume_ids(admin_api: Any) -> set[str]:
    response = admin_api.get("/volumes", params={"all_tenants": "1"})
    return {v["id"] for v in response.json()["volumes"]}


@pytest.mark.parametrize("zone", [["nova"], {"zone": "nova"}, 1])
def test_an_availability_zone_that_is_not_a_string_is_a_400(admin_api: Any, zone: Any) -> None:
    before = _volume_ids(admin_api)
    name = unique("az")
    body = {"volume": {"size": 1, "name": name, "availability_zone": zone}}
    _cinder_400(admin_api.post("/volumes", json=body), "availability_zone")
    assert _volume_ids(admin_api) == before


def test_a_lone_surrogate_in_a_volume_name_is_a_400(admin_api: Any) -> None:
    before = _volume_ids(admin_api)
    body = b'{"volume": {"size": 1, "name": "bad\\ud800"}}'
    _cinder_400(admin_api.post("/volumes", data=body, headers=JSON), "lone surrogate")
    assert _volume_ids(admin_api) == before


def test_a_lone_surrogate_in_a_volume_type_name_is_a_400(admin_api: Any) -> None:
    listed = admin_api.get("/types").json()["volume_types"]
    body = b'{"volume_type": {"name": "bad\\ud800"}}'
    _cinder_400(admin_api.post("/types", data=body, headers=JSON), "lone surrogate")
    assert admin_api.get("/types").json()["volume_types"] == listed


def test_a_size_past_64_bits_is_a_400(admin_api: Any) -> None:
    before = _volume_ids(admin_api)
    for size in (b"18446744073709551616", b'"18446744073709551616"'):
        body = b'{"volume": {"size": %s}}' % size
        response = admin_api.post("/volumes", data=body, headers=JSON)
        assert response.status_code == 400, response.text
        assert "badRequest" in response.json()
    assert _volume_ids(admin_api) == before
