"""Keystone's domain-specific configuration API (``/v3/domains/{id}/config``), through
the openstacksdk identity session (the sdk has no calls of its own for it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.identity.helpers import assert_error, unique

LDAP = {
    "identity": {"driver": "ldap"},
    "ldap": {"url": "ldap://ldap.example.org:389/", "user_tree_dn": "ou=Users,dc=example,dc=org"},
}


@pytest.fixture
def domain(admin: Any) -> Iterator[Any]:
    created = admin.identity.create_domain(name=unique("cfg"))
    try:
        yield created
    finally:
        admin.identity.update_domain(created, enabled=False)
        admin.identity.delete_domain(created)


def _config(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["config"]


def test_put_creates_with_201_then_replaces_with_200(admin: Any, domain: Any) -> None:
    ident = admin.identity
    path = f"/domains/{domain.id}/config"
    assert _config(ident.put(path, json={"config": LDAP}), 201) == LDAP
    assert _config(ident.get(path)) == LDAP
    replaced = _config(ident.put(path, json={"config": {"identity": {"driver": "sql"}}}), 200)
    # a PUT replaces the whole document: the ldap group is gone
    assert replaced == {"identity": {"driver": "sql"}}
    assert_error(ident.get(f"{path}/ldap"), 404, "group ldap")


def test_groups_and_options_read_update_and_delete(admin: Any, domain: Any) -> None:
    ident = admin.identity
    path = f"/domains/{domain.id}/config"
    _config(ident.put(path, json={"config": LDAP}), 201)
    assert _config(ident.get(f"{path}/ldap")) == {"ldap": LDAP["ldap"]}
    assert _config(ident.get(f"{path}/ldap/url")) == {"url": LDAP["ldap"]["url"]}

    merged = _config(
        ident.patch(f"{path}/identity", json={"config": {"identity": {"list_limit": 7}}})
    )
    assert merged["identity"] == {"driver": "ldap", "list_limit": 7}
    option = _config(ident.patch(f"{path}/identity/driver", json={"config": {"driver": "x"}}))
    assert option["identity"]["driver"] == "x"

    assert ident.delete(f"{path}/identity/driver").status_code == 204
    assert_error(ident.get(f"{path}/identity/driver"), 404, "option driver in group identity")
    assert ident.delete(f"{path}/identity").status_code == 204
    assert_error(ident.get(f"{path}/identity"), 404, "group identity")
    assert ident.delete(path).status_code == 204
    assert_error(ident.get(path), 404, "any options")


def test_the_ldap_password_is_stored_but_never_shown(admin: Any, domain: Any) -> None:
    ident = admin.identity
    path = f"/domains/{domain.id}/config"
    document = {"ldap": {**LDAP["ldap"], "password": "s3cret"}}
    created = _config(ident.put(path, json={"config": document}), 201)
    assert "password" not in created["ldap"]
    assert "password" not in _config(ident.get(path))["ldap"]
    assert_error(ident.get(f"{path}/ldap/password"), 404)
    # stored all the same: a group update naming it finds it
    updated = ident.patch(f"{path}/ldap/password", json={"config": {"password": "other"}})
    assert "password" not in _config(updated)["ldap"]


def test_unsupported_groups_and_options_are_403(admin: Any, domain: Any) -> None:
    ident = admin.identity
    path = f"/domains/{domain.id}/config"
    bad_group = ident.put(path, json={"config": {"token": {"expiration": 1}}})
    assert_error(bad_group, 403, "group token is not supported")
    bad_option = ident.put(path, json={"config": {"identity": {"password_regex": "x"}}})
    assert_error(bad_option, 403, "option password_regex in group identity")
    assert_error(ident.put(path, json={"config": {}}), 403, "no options")
    assert_error(ident.get(path), 404)  # nothing half-written


def test_update_of_a_missing_group_is_404(admin: Any, domain: Any) -> None:
    ident = admin.identity
    path = f"/domains/{domain.id}/config"
    _config(ident.put(path, json={"config": {"identity": {"driver": "ldap"}}}), 201)
    missing = ident.patch(f"{path}/ldap", json={"config": {"ldap": {"url": "ldap://x"}}})
    assert_error(missing, 404, "group ldap")


def test_unknown_domain_is_404(admin: Any) -> None:
    missing = admin.identity.put("/domains/nope/config", json={"config": LDAP})
    assert_error(missing, 404, "domain")


def test_defaults(admin: Any) -> None:
    ident = admin.identity
    everything = _config(ident.get("/domains/config/default"))
    assert set(everything) == {"identity", "ldap"}
    assert everything["identity"] == {"driver": "sql", "list_limit": None}
    assert "password" not in everything["ldap"]
    assert _config(ident.get("/domains/config/ldap/default"))["ldap"]["url"] == "ldap://localhost"
    assert _config(ident.get("/domains/config/identity/driver/default")) == {"driver": "sql"}
    assert_error(ident.get("/domains/config/ldap/password/default"), 403)
    assert_error(ident.get("/domains/config/token/default"), 403)


def test_non_admin_is_403(demo: Any, admin: Any, domain: Any) -> None:
    path = f"/domains/{domain.id}/config"
    assert_error(demo.identity.put(path, json={"config": LDAP}), 403)
    assert_error(demo.identity.get("/domains/config/default"), 403)
    assert_error(admin.identity.get(path), 404)  # the refused PUT stored nothing


def test_security_compliance_is_readable_by_anyone_for_the_default_domain(
    demo: Any, domain: Any
) -> None:
    path = "/domains/default/config/security_compliance"
    rules = _config(demo.identity.get(path))
    assert rules == {
        "security_compliance": {"password_regex": None, "password_regex_description": None}
    }
    assert _config(demo.identity.get(f"{path}/password_regex")) == {"password_regex": None}
    assert_error(demo.identity.get(f"{path}/lockout_duration"), 403)
    other = demo.identity.get(f"/domains/{domain.id}/config/security_compliance")
    assert_error(other, 403, "default domain")


def test_malformed_bodies_are_4xx(admin: Any, domain: Any) -> None:
    path = f"/domains/{domain.id}/config"
    assert_error(admin.identity.put(path, json={}), 403, "no options")
    assert_error(admin.identity.put(path, json=["config"]), 400)
    assert_error(admin.identity.put(path, json={"config": {"ldap": "url"}}), 403, "dictionary")
    assert_error(admin.identity.put(path, json={"config": {"ldap": {}}}), 403, "dictionary")
    assert_error(admin.identity.get(path), 404)
