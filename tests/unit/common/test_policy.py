from __future__ import annotations

from pathlib import Path

import pytest

from onestack.common.context import RequestContext
from onestack.common.exceptions import PolicyNotAuthorized
from onestack.common.policy import Enforcer, parse_rule

MEMBER = RequestContext(user_id="u1", project_id="p1", roles=("member", "reader"))
ADMIN = RequestContext(user_id="a", project_id="p0", roles=("admin", "member", "reader"))
SYSTEM_READER = RequestContext(user_id="r", system_scope="all", roles=("reader",))


def check(rule: str, ctx: RequestContext, target: dict[str, object] | None = None) -> bool:
    return Enforcer({"x": rule}).authorize(ctx, "x", target)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("", True),
        ("@", True),
        ("!", False),
        ("role:member", True),
        ("role:MEMBER", True),
        ("role:admin", False),
        ("role:admin or role:member", True),
        ("role:admin and role:member", False),
        ("not role:admin", True),
        ("(role:admin or role:reader) and project_id:%(project_id)s", True),
        ("project_id:%(project_id)s", True),
        ("project_id:%(other)s", False),
        ("user_id:%(target.user.id)s", True),
        ("'p1':%(project_id)s", True),
        ("is_admin:True", False),
        ("system_scope:all", False),
    ],
)
def test_rules_for_a_member(rule: str, expected: bool) -> None:
    target = {"project_id": "p1", "other": "p2", "target": {"user": {"id": "u1"}}}
    assert check(rule, MEMBER, target) is expected


def test_missing_target_value_never_matches() -> None:
    assert check("project_id:%(project_id)s", MEMBER, {}) is False


def test_rule_references_and_admin() -> None:
    enforcer = Enforcer(
        {
            "admin_required": "role:admin",
            "a": "rule:admin_required or (role:reader and system_scope:all)",
        }
    )
    assert enforcer.authorize(ADMIN, "a")
    assert enforcer.authorize(SYSTEM_READER, "a")
    assert not enforcer.authorize(MEMBER, "a")
    with pytest.raises(PolicyNotAuthorized) as raised:
        enforcer.enforce(MEMBER, "a")
    assert raised.value.code == 403 and "a" in raised.value.message


def test_internal_context_is_always_allowed() -> None:
    assert Enforcer({"x": "!"}).authorize(RequestContext.admin(), "x")


def test_unregistered_rule_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        Enforcer({}).authorize(MEMBER, "nope")


@pytest.mark.parametrize("text", ["role:a or", "(role:a", "role:a)", "nonsense", "a and"])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rule(text)


def test_file_overrides_defaults_and_reloads(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"x": "role:member"\n')
    enforcer = Enforcer({"x": "!"}, policy)
    assert enforcer.authorize(MEMBER, "x")
    policy.write_text('"x": "role:admin"\n# changed\n')
    enforcer._checked_at = 0  # skip the once-a-second throttle
    assert not enforcer.authorize(MEMBER, "x")
    policy.unlink()
    enforcer._checked_at = 0
    assert not enforcer.authorize(MEMBER, "x")  # back to the default "!"
