"""OS-OAUTH1 consumers (the rest of OS-OAUTH1 answers 501), through the openstacksdk
identity session (the sdk has no consumer calls)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.identity.helpers import assert_error, unique

PATH = "/OS-OAUTH1/consumers"


@pytest.fixture
def consumer(admin: Any) -> Iterator[dict[str, Any]]:
    created = admin.identity.post(PATH, json={"consumer": {"description": unique("c")}})
    assert created.status_code == 201, created.text
    body = created.json()["consumer"]
    try:
        yield body
    finally:
        admin.identity.delete(f"{PATH}/{body['id']}")


def test_secret_is_shown_only_at_creation(admin: Any, consumer: dict[str, Any]) -> None:
    assert isinstance(consumer["secret"], str) and len(consumer["secret"]) >= 32
    assert consumer["links"]["self"].endswith(f"/v3{PATH}/{consumer['id']}")
    shown = admin.identity.get(f"{PATH}/{consumer['id']}").json()["consumer"]
    assert "secret" not in shown
    assert {k: shown[k] for k in ("id", "description", "links")} == {
        k: consumer[k] for k in ("id", "description", "links")
    }
    listed = admin.identity.get(PATH).json()["consumers"]
    mine = [c for c in listed if c["id"] == consumer["id"]]
    assert len(mine) == 1 and "secret" not in mine[0]


def test_update_changes_the_description_never_the_secret(
    admin: Any, consumer: dict[str, Any]
) -> None:
    url = f"{PATH}/{consumer['id']}"
    updated = admin.identity.patch(url, json={"consumer": {"description": "new words"}})
    assert updated.status_code == 200, updated.text
    assert admin.identity.get(url).json()["consumer"]["description"] == "new words"
    assert_error(admin.identity.patch(url, json={"consumer": {"secret": "mine"}}), 400)
    assert_error(admin.identity.patch(url, json={"consumer": {}}), 400)


def test_delete_then_404(admin: Any) -> None:
    created = admin.identity.post(PATH, json={"consumer": {}}).json()["consumer"]
    assert created["description"] is None
    assert admin.identity.delete(f"{PATH}/{created['id']}").status_code == 204
    assert_error(admin.identity.get(f"{PATH}/{created['id']}"), 404, created["id"])
    assert_error(admin.identity.delete(f"{PATH}/{created['id']}"), 404)


def test_consumers_are_admin_only(demo: Any, consumer: dict[str, Any]) -> None:
    assert_error(demo.identity.get(PATH), 403)
    assert_error(demo.identity.post(PATH, json={"consumer": {}}), 403)
    assert_error(demo.identity.delete(f"{PATH}/{consumer['id']}"), 403)


def test_oauth1_tokens_are_not_implemented(admin: Any) -> None:
    assert_error(admin.identity.post("/OS-OAUTH1/request_token"), 501, "not implemented")
    assert_error(admin.identity.post("/OS-OAUTH1/access_token"), 501, "not implemented")
