"""Hostile bodies answer Glance's 400 and create no image (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.names import unique


@pytest.mark.parametrize("field", ["min_disk", "min_ram"])
def test_a_size_past_64_bits_is_a_400_and_creates_no_image(
    admin_api: Any, admin: Any, field: str
) -> None:
    name = unique("huge")
    body = b'{"name": "%s", "%s": 18446744073709551616}' % (name.encode(), field.encode())
    response = admin_api.post(
        "/v2/images",
        data=body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "400 Bad Request"
    assert "out of range" in error["message"]
    assert list(admin.image.images(name=name)) == []


def test_a_lone_surrogate_in_a_name_is_a_400(admin_api: Any, admin: Any) -> None:
    before = {i.id for i in admin.image.images()}
    response = admin_api.post(
        "/v2/images",
        data=b'{"name": "bad\\udc00"}',
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert "lone surrogate" in response.json()["message"]
    assert {i.id for i in admin.image.images()} == before
