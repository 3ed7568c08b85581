"""The orchestration manager alone: a database with its own tables only, and the other
services replaced by a fake identity API behind the engine's HTTP client (trusts and
trust-scoped tokens, exactly what the engine asks of them).  A stack is created with a
trust of its owner, runs with tokens of that trust, is invisible to another project,
and deleting it deletes its trust."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.keystone_client import service_credentials
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.config import Settings
from onestack.orchestration import policies
from onestack.orchestration.exceptions import EntityNotFound
from onestack.orchestration.manager import OrchestrationManager

OWNER = RequestContext(
    request_id="req-owner",
    user_id="u-owner",
    project_id="p-owner",
    roles=("member", "reader"),
    auth_token="owner-token",
)
OTHER = RequestContext(
    request_id="req-other", user_id="u-other", project_id="p-other", roles=("member", "reader")
)
TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {"length": {"type": "number", "default": 12}},
    "resources": {
        "secret": {
            "type": "OS::Heat::RandomString",
            "properties": {"length": {"get_param": "length"}},
        },
        "nothing": {"type": "OS::Heat::None", "depends_on": "secret"},
    },
    "outputs": {"value": {"value": {"get_attr": ["secret", "value"]}}},
}


class FakeIdentity:
    """Keystone as the engine uses it: the service user's password token, trusts from
    the stack owner's token, tokens scoped to a trust, and their catalog."""

    def __init__(self) -> None:
        self.trusts: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.scoped: list[str] = []

    def _catalog(self) -> list[dict[str, Any]]:
        url = "http://identity.test/v3"
        return [{"type": "identity", "endpoints": [{"interface": "public", "url": url}]}]

    def _token(self, token: str, user_id: str) -> httpx.Response:
        body = {"token": {"user": {"id": user_id}, "catalog": self._catalog()}}
        return httpx.Response(201, json=body, headers={"X-Subject-Token": token})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.endswith("/v3/auth/tokens"):
            auth = json.loads(request.content)["auth"]
            if auth["identity"]["methods"] == ["password"]:
                user = auth["identity"]["password"]["user"]
                assert user["password"] == "heat-secret" and auth["scope"] == "unscoped"
                return self._token("heat-token", "heat-user")
            trust_id = auth["scope"]["OS-TRUST:trust"]["id"]
            assert auth["identity"]["token"]["id"] == "heat-token" and trust_id in self.trusts
            self.scoped.append(trust_id)
            return self._token(f"trust-token-{trust_id}", self.trusts[trust_id]["trustor_user_id"])
        if request.method == "POST" and path.endswith("/v3/OS-TRUST/trusts"):
            assert request.headers["X-Auth-Token"] == "owner-token"
            trust = json.loads(request.content)["trust"]
            trust_id = f"trust-{len(self.trusts) + 1}"
            self.trusts[trust_id] = trust
            return httpx.Response(201, json={"trust": {"id": trust_id, **trust}})
        if request.method == "DELETE" and "/OS-TRUST/trusts/" in path:
            self.deleted.append(path.rsplit("/", 1)[1])
            return httpx.Response(204)
        if request.method == "GET" and path.endswith("/v3/auth/catalog"):
            return httpx.Response(200, json={"catalog": self._catalog()})
        return httpx.Response(404, json={"error": {"code": 404, "message": path}})


@pytest.fixture()
def built(tmp_path: Path) -> Iterator[tuple[OrchestrationManager, Database]]:
    settings = Settings(state_dir=tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'orchestration.db'}")
    upgrade(db, ["onestack.orchestration"])
    try:
        yield OrchestrationManager(db, Enforcer(policies.RULES), settings), db
    finally:
        db.dispose()


async def _story(manager: OrchestrationManager, identity: FakeIdentity) -> None:
    credentials = service_credentials(
        "http://identity.test/v3", "heat", "heat-secret", "RegionOne", project=None
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(identity))
    await manager.start(credentials, http=http)
    try:
        row = await manager.stacks.create(OWNER, {"stack_name": "unit", "template": TEMPLATE})
        await manager.wait_idle()
        stack = manager.stacks.get(OWNER, "unit", row.id)
        assert (stack.action, stack.status) == ("CREATE", "COMPLETE"), stack.status_reason
        trust = identity.trusts[stack.trust_id or ""]
        assert trust["trustor_user_id"] == "u-owner" and trust["trustee_user_id"] == "heat-user"
        assert trust["impersonation"] is True and trust["project_id"] == "p-owner"
        output = await manager.stacks.output(OWNER, "unit", row.id, "value")
        assert len(output["output_value"]) == 12
        with pytest.raises(EntityNotFound):
            manager.stacks.lookup(OTHER, row.id)
        with pytest.raises(EntityNotFound):
            manager.stacks.lookup(OTHER, "unit")
        await manager.stacks.delete(OWNER, "unit", row.id)
        await manager.wait_idle()
        gone = manager.stacks.lookup(OWNER, row.id)
        assert (gone.action, gone.status) == ("DELETE", "COMPLETE"), gone.status_reason
        assert identity.deleted == [stack.trust_id]
    finally:
        await manager.stop()


def test_a_stack_lives_on_its_owners_trust_alone(
    built: tuple[OrchestrationManager, Database],
) -> None:
    manager, db = built
    identity = FakeIdentity()
    asyncio.run(_story(manager, identity))
    assert identity.scoped, "the engine acted with tokens of the stack's trust"
    tables = set(inspect(db.engine).get_table_names())
    assert {t for t in tables if t.startswith("orchestration_")}
    # the framework's own tables (quotas, migrations) and the service's: no other service's
    assert all(
        t.startswith(("orchestration_", "quota_", "alembic", "injected_faults")) for t in tables
    ), tables
