"""The Flash cross-domain policy at /crossdomain.xml (Swift's crossdomain middleware)."""

from __future__ import annotations

import httpx

from tests.support.server import RunningCloud


def test_crossdomain_policy_is_served_and_advertised(cloud: RunningCloud) -> None:
    response = httpx.get(cloud.url("object") + "/crossdomain.xml", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    assert response.headers["X-Trans-Id"]
    body = response.text
    assert body.startswith(
        '<?xml version="1.0"?>\n<!DOCTYPE cross-domain-policy SYSTEM '
        '"http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n<cross-domain-policy>\n'
    )
    assert '<allow-access-from domain="*" secure="false" />' in body
    assert body.endswith("</cross-domain-policy>")
    info = httpx.get(cloud.url("object") + "/info", timeout=30).json()
    assert "crossdomain" in info
