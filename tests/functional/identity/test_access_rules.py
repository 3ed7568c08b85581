"""Application credential access rules: kept per user, shared between credentials,
refused deletion while in use, and enforced on the tokens of the credential."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from openstack import exceptions

from tests.functional.identity.helpers import assert_error, unique
from tests.support.server import RunningCloud

SERVERS_IPS = {"service": "compute", "method": "GET", "path": "/v2.1/servers/*/ips"}


@pytest.fixture
def credentials(demo: Any) -> Iterator[list[Any]]:
    """Application credentials made by a test; all deleted afterwards."""
    made: list[Any] = []
    try:
        yield made
    finally:
        for cred in made:
            demo.identity.delete_application_credential(demo.current_user_id, cred.id)


def _create(demo: Any, made: list[Any], rules: list[dict[str, str]], **attrs: Any) -> Any:
    cred = demo.identity.create_application_credential(
        demo.current_user_id, unique("ac"), access_rules=rules, **attrs
    )
    made.append(cred)
    return cred


def test_rules_come_back_with_ids_and_are_listed(demo: Any, credentials: list[Any]) -> None:
    rule = {**SERVERS_IPS, "service": unique("svc")}
    cred = _create(demo, credentials, [rule])
    (returned,) = cred.access_rules
    assert {k: returned[k] for k in ("service", "method", "path")} == rule
    user = demo.current_user_id
    listed = {r.id: r for r in demo.identity.access_rules(user)}
    assert returned["id"] in listed
    shown = demo.identity.get_access_rule(user, returned["id"])
    assert (shown.service, shown.method, shown.path) == (rule["service"], "GET", rule["path"])
    fetched = demo.identity.get_application_credential(user, cred.id)
    assert fetched.access_rules == cred.access_rules


def test_identical_rules_are_one_rule(demo: Any, credentials: list[Any]) -> None:
    rule = {**SERVERS_IPS, "service": unique("svc")}
    first = _create(demo, credentials, [rule])
    second = _create(demo, credentials, [dict(rule)])
    by_id = _create(demo, credentials, [{"id": first.access_rules[0]["id"]}])
    assert first.access_rules[0]["id"] == second.access_rules[0]["id"]
    assert by_id.access_rules == first.access_rules
    same = [r for r in demo.identity.access_rules(demo.current_user_id, service=rule["service"])]
    assert len(same) == 1


def test_a_rule_in_use_cannot_be_deleted(demo: Any, credentials: list[Any]) -> None:
    user = demo.current_user_id
    cred = _create(demo, credentials, [{**SERVERS_IPS, "service": unique("svc")}])
    rule_id = cred.access_rules[0]["id"]
    with pytest.raises(exceptions.ForbiddenException):
        demo.identity.delete_access_rule(user, rule_id)
    demo.identity.delete_application_credential(user, cred.id)
    credentials.remove(cred)
    # the rule outlives the credential, and can go now
    assert rule_id in {r.id for r in demo.identity.access_rules(user)}
    demo.identity.delete_access_rule(user, rule_id)
    assert rule_id not in {r.id for r in demo.identity.access_rules(user)}
    with pytest.raises(exceptions.NotFoundException):
        demo.identity.get_access_rule(user, rule_id)


def test_bad_rules_are_400_and_unknown_ids_404(demo: Any) -> None:
    path = f"/users/{demo.current_user_id}/application_credentials"

    def create(rule: dict[str, Any]) -> Any:
        body = {"application_credential": {"name": unique("ac"), "access_rules": [rule]}}
        return demo.identity.post(path, json=body)

    assert_error(create({**SERVERS_IPS, "method": "FETCH"}), 400)
    assert_error(create({**SERVERS_IPS, "path": "no-slash"}), 400)
    assert_error(create({"service": "compute", "method": "GET"}), 400)
    assert_error(create({**SERVERS_IPS, "extra": 1}), 400)
    assert_error(create({"id": "0" * 32}), 404, "access rule")


def test_another_users_rules_are_out_of_reach(
    demo: Any, admin: Any, credentials: list[Any]
) -> None:
    cred = _create(demo, credentials, [{**SERVERS_IPS, "service": unique("svc")}])
    rule_id = cred.access_rules[0]["id"]
    # admin names demo's rule for an application credential of its own
    body = {"application_credential": {"name": unique("ac"), "access_rules": [{"id": rule_id}]}}
    taken = admin.identity.post(
        f"/users/{admin.current_user_id}/application_credentials", json=body
    )
    assert_error(taken, 404, rule_id)
    other = demo.identity.get(f"/users/{admin.current_user_id}/access_rules/{rule_id}")
    assert_error(other, 403)


def _app_cred_token(cloud: RunningCloud, cred: Any) -> str:
    auth = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": cred.id, "secret": cred.secret},
            }
        }
    }
    response = requests.post(f"{cloud.auth_url}/auth/tokens", json=auth, timeout=30)
    assert response.status_code == 201, response.text
    shown = response.json()["token"]["application_credential"]
    # Keystone shows the rules in the token, and no key at all when there are none
    assert shown.get("access_rules") == (cred.access_rules or None)
    return str(response.headers["X-Subject-Token"])


def test_tokens_reach_only_what_the_rules_name(
    cloud: RunningCloud, demo: Any, credentials: list[Any]
) -> None:
    user = demo.current_user_id
    rules = [
        {"service": "identity", "method": "GET", "path": f"/v3/users/{user}"},
        {"service": "compute", "method": "GET", "path": "/v2.1/flavors/**"},
    ]
    cred = _create(demo, credentials, rules)
    headers = {"X-Auth-Token": _app_cred_token(cloud, cred)}

    def status(service: str, method: str, path: str) -> int:
        url = f"{cloud.url(service)}{path}"
        return requests.request(method, url, headers=headers, timeout=30).status_code

    assert status("identity", "GET", f"/v3/users/{user}") == 200
    assert status("identity", "GET", f"/v3/users/{user}/application_credentials") == 401
    assert status("identity", "PATCH", f"/v3/users/{user}") == 401
    assert status("compute", "GET", "/v2.1/flavors/detail") == 200
    assert status("compute", "GET", "/v2.1/servers") == 401
    assert status("image", "GET", "/v2/images") == 401


def test_without_rules_tokens_are_not_limited(
    cloud: RunningCloud, demo: Any, credentials: list[Any]
) -> None:
    cred = _create(demo, credentials, [])
    token = _app_cred_token(cloud, cred)
    response = requests.get(
        f"{cloud.url('image')}/v2/images", headers={"X-Auth-Token": token}, timeout=30
    )
    assert response.status_code == 200, response.text
