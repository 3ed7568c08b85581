"""Version discovery, the extension list and the catalog."""

from __future__ import annotations

from typing import Any

import requests

from tests.support.http import RawClient as Raw
from tests.support.server import RunningCloud

REQUIRED = {
    "standard-attr-tag", "standard-attr-description", "standard-attr-timestamp",
    "standard-attr-revisions", "router", "ext-gw-mode", "extraroute", "security-group",
    "port-security", "allowed-address-pairs", "binding", "external-net", "quotas",
    "network-ip-availability", "availability_zone",
}  # fmt: skip


def test_version_document_lists_v2(cloud: RunningCloud) -> None:
    response = requests.get(cloud.url("network") + "/", timeout=10)
    assert response.status_code == 200
    versions = response.json()["versions"]
    assert [v["id"] for v in versions] == ["v2.0"]
    assert versions[0]["status"] == "CURRENT"
    assert versions[0]["links"][0]["href"].endswith("/v2.0/")


def test_extensions_list_what_is_implemented(admin: Any) -> None:
    aliases = {e.alias for e in admin.network.extensions()}
    assert aliases >= REQUIRED
    assert "address-scope" not in aliases and "trunk" not in aliases
    assert admin.network.find_extension("router").name == "Neutron L3 Router"


def test_unknown_extension_is_a_neutron_404(raw_admin: Raw) -> None:
    response = raw_admin.request("GET", "/v2.0/extensions/no-such-thing")
    assert response.status_code == 404
    assert response.json()["NeutronError"]["type"] == "ExtensionNotFound"


def test_catalog_names_neutron(admin: Any, cloud: RunningCloud) -> None:
    endpoint = admin.session.get_endpoint(service_type="network", interface="public")
    assert endpoint.rstrip("/").startswith(cloud.url("network"))


def test_unsupported_collection_answers_501(raw_admin: Raw) -> None:
    response = raw_admin.request("GET", "/v2.0/address-scopes")
    assert response.status_code == 501
    body = response.json()["NeutronError"]
    assert body["type"] == "NotImplementedError"
    assert "Address scopes" in body["message"]


def test_requests_without_token_are_401(cloud: RunningCloud) -> None:
    response = requests.get(cloud.url("network") + "/v2.0/networks", timeout=10)
    assert response.status_code == 401
    assert "NeutronError" in response.json()
    assert response.headers["x-openstack-request-id"].startswith("req-")
