"""Hostile bodies answer Nova's 400 and create nothing (issue 13)."""

from __future__ import annotations

from typing import Any

from tests.functional.compute.conftest import raw
from tests.support.http import RawClient
from tests.support.names import unique
from tests.support.server import RunningCloud


def _nova_400(response: Any, fragment: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["badRequest"]
    assert error["code"] == 400
    assert fragment in error["message"], error


def test_a_body_nested_5000_deep_is_a_400(cloud: RunningCloud, admin: Any) -> None:
    deep = b'{"flavor": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    client = RawClient(cloud.url("compute"), admin.session.get_token())
    response = client.post("/v2.1/flavors", data=deep, headers={"Content-Type": "application/json"})
    _nova_400(response, "nested deeper than")


def test_flavor_sizes_past_64_bits_are_a_400_and_create_no_flavor(admin: Any) -> None:
    name = unique("huge")
    for field in ("ram", "vcpus", "disk", "swap", "OS-FLV-EXT-DATA:ephemeral"):
        flavor = {"name": name, "ram": 64, "vcpus": 1, "disk": 1, field: 2**64}
        response = raw(admin, "post", "/flavors", json={"flavor": flavor})
        _nova_400(response, "out of range")
    flavor = {"name": name, "ram": "18446744073709551616", "vcpus": 1, "disk": 1}
    _nova_400(raw(admin, "post", "/flavors", json={"flavor": flavor}), "out of range")
    assert [f for f in admin.compute.flavors() if f.name == name] == []


def test_a_keypair_of_an_unknown_type_is_a_400_and_creates_nothing(admin: Any) -> None:
    name = unique("kp")
    for key in ("foo AAAAB3NzaC1yc2EAAAADAQABAAABAQC", "ssh-bogus AAAA me@host"):
        body = {"keypair": {"name": name, "public_key": key}}
        response = raw(admin, "post", "/os-keypairs", json=body)
        _nova_400(response, "Keypair data is invalid")
    assert admin.compute.find_keypair(name) is None
