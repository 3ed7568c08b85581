"""Hostile object headers answer Swift's 400 and store nothing (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.errors import swift_error
from tests.support.http import RawClient
from tests.support.server import RunningCloud


@pytest.fixture()
def raw(cloud: RunningCloud, swift: Any) -> RawClient:
    url, token = swift.get_auth()
    return RawClient(url, token)


@pytest.mark.parametrize(
    ("header", "value", "fragment"),
    [
        ("X-Delete-At", "18446744073709551616", "X-Delete-At too large"),
        ("X-Delete-At", "10000000000", "X-Delete-At too large"),
        ("X-Delete-After", "18446744073709551616", "X-Delete-After too large"),
        ("X-Delete-At", "12abc", "Non-integer X-Delete-At"),
    ],
)
def test_put_with_an_expiry_out_of_range_is_a_400_and_stores_nothing(
    raw: RawClient, swift: Any, container: str, header: str, value: str, fragment: str
) -> None:
    response = raw.put(f"/{container}/doomed", data=b"payload", headers={header: value})
    swift_error(response, 400, fragment)
    assert raw.get(f"/{container}/doomed").status_code == 404
    headers, listing = swift.get_container(container)
    assert listing == []
    assert headers["x-container-object-count"] == "0"
    assert headers["x-container-bytes-used"] == "0"


def test_post_with_an_expiry_out_of_range_keeps_the_object_as_it_was(
    raw: RawClient, swift: Any, container: str
) -> None:
    swift.put_object(container, "kept", b"payload")
    response = raw.post(f"/{container}/kept", headers={"X-Delete-At": "18446744073709551616"})
    swift_error(response, 400, "X-Delete-At too large")
    headers = swift.head_object(container, "kept")
    assert "x-delete-at" not in headers
    assert swift.get_object(container, "kept")[1] == b"payload"
