"""The identity manager on its own database only (identity's tables, nothing
of any other service): bootstrap, tokens through the pipeline's validator,
what a token may be scoped to, and the errors with Keystone's messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import inspect

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.exceptions import NotFound, PolicyNotAuthorized, Unauthorized
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.config import Settings
from onestack.identity import policies
from onestack.identity.bootstrap import bootstrap
from onestack.identity.conf import IdentitySettings
from onestack.identity.interface import IdentityService
from onestack.identity.manager import IdentityManager


@dataclass
class Identity:
    db: Database
    manager: IdentityManager
    admin: RequestContext
    demo: RequestContext
    unscoped: RequestContext


def _login(manager: IdentityManager, name: str, password: str, project: str) -> RequestContext:
    auth: dict[str, object] = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"name": name, "domain": {"id": "default"}, "password": password}},
        }
    }
    auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    token, _ = manager.tokens.authenticate(auth)
    validator = manager.tokens  # what every service's pipeline calls
    return asyncio.run(validator.validate(token, f"req-{name}"))


@pytest.fixture()
def identity(tmp_path: Path) -> Iterator[Identity]:
    settings = Settings(
        state_dir=tmp_path / "state",
        db_url=f"sqlite:///{tmp_path / 'identity.db'}",
        admin_password="admin-secret",
        demo_password="demo-secret",
        identity=IdentitySettings(argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1),
    )
    db = Database(settings.database_url)
    upgrade(db, ["onestack.identity"])
    manager = IdentityManager(settings, db, Enforcer(policies.RULES))
    bootstrap(manager, settings, [])
    demo = _login(manager, "demo", "demo-secret", "demo")
    # what an unscoped token of demo validates to (no project, domain or system)
    unscoped = replace(demo, project_id=None, project_name=None, project_domain_id=None, roles=())
    try:
        yield Identity(
            db, manager, _login(manager, "admin", "admin-secret", "admin"), demo, unscoped
        )
    finally:
        db.dispose()


def test_identity_needs_only_its_own_tables(identity: Identity) -> None:
    tables = set(inspect(identity.db.engine).get_table_names())
    assert {"identity_users", "identity_projects", "identity_assignments"} <= tables
    assert {
        t
        for t in tables
        if not t.startswith(("identity_", "quota_", "alembic_", "injected_faults"))
    } == set()
    service: IdentityService = identity.manager  # the Protocol other services see
    assert service.lookup_ec2("no-such-access") is None


def test_tokens_validate_to_the_users_context(identity: Identity) -> None:
    demo = identity.demo
    assert (demo.user_name, demo.project_name, demo.request_id) == ("demo", "demo", "req-demo")
    assert "member" in demo.roles and not demo.is_admin
    assert identity.admin.is_admin
    with pytest.raises(Unauthorized):
        asyncio.run(identity.manager.tokens.validate("not-a-token", "req-x"))


def test_what_a_token_may_be_scoped_to(identity: Identity) -> None:
    assignments = identity.manager.assignments
    assert [p.name for p in assignments.scopable_projects(identity.unscoped)] == ["demo"]
    assert assignments.scopable_domains(identity.unscoped) == []
    assert assignments.scopable_system(identity.admin) is True
    assert assignments.scopable_system(identity.demo) is False
    assert assignments.scopable_projects(RequestContext.admin()) == []


def test_user_projects_are_filtered_and_guarded(identity: Identity) -> None:
    assignments = identity.manager.assignments
    demo = identity.demo
    assert demo.user_id is not None and identity.admin.user_id is not None
    own = assignments.user_projects(demo, demo.user_id, [("enabled", "true")])
    assert [p.name for p in own] == ["demo"]
    assert assignments.user_projects(demo, demo.user_id, [("name", "other")]) == []
    with pytest.raises(PolicyNotAuthorized) as refused:
        assignments.user_projects(demo, identity.admin.user_id, [])
    assert refused.value.code == 403
    with pytest.raises(NotFound) as missing:
        assignments.user_projects(identity.admin, "no-such-user", [])
    assert missing.value.message == "Could not find user: no-such-user."


def test_the_catalog_needs_a_scoped_token(identity: Identity) -> None:
    assert identity.manager.catalog.catalog_of_token(identity.demo) == []
    with pytest.raises(Unauthorized) as refused:
        identity.manager.catalog.catalog_of_token(identity.unscoped)
    assert refused.value.message == "The catalog needs a scoped token."


def test_a_missing_project_tag_is_keystones_404(identity: Identity) -> None:
    resources = identity.manager.resources
    assert identity.demo.project_id is not None
    project = identity.demo.project_id
    resources.set_project_tags(identity.admin, project, "add", ["blue"])
    resources.check_project_tag(identity.demo, project, "blue")
    with pytest.raises(NotFound) as missing:
        resources.check_project_tag(identity.demo, project, "green")
    assert missing.value.message == "Could not find tag: green."


def test_context_for_acts_as_a_user_without_a_token(identity: Identity) -> None:
    demo = identity.demo
    assert demo.user_id is not None and demo.project_id is not None
    ctx = identity.manager.context_for(demo.user_id, demo.project_id, "req-s3")
    assert (ctx.user_id, ctx.project_id, ctx.request_id) == (
        demo.user_id,
        demo.project_id,
        "req-s3",
    )
    assert set(ctx.roles) == set(demo.roles)
    with pytest.raises(Unauthorized):
        identity.manager.context_for(demo.user_id, "no-such-project")
