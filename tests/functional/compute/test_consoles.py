"""Remote consoles through the API on a cloud whose only host is the fake driver
(no consoles: Nova's 501), and the request checks every driver shares."""

from __future__ import annotations

from typing import Any

from tests.functional.compute.conftest import raw


def _console(protocol: str, kind: str) -> dict[str, Any]:
    return {"remote_console": {"protocol": protocol, "type": kind}}


def test_a_host_without_consoles_answers_501(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    resp = raw(admin, "post", f"/servers/{server.id}/remote-consoles", "2.6",
               json=_console("serial", "serial"))  # fmt: skip
    assert resp.status_code == 501
    assert "notImplemented" in resp.json()
    legacy = raw(admin, "post", f"/servers/{server.id}/action", "2.1",
                 json={"os-getVNCConsole": {"type": "novnc"}})  # fmt: skip
    assert legacy.status_code == 501


def test_console_requests_are_checked_as_nova_checks_them(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    path = f"/servers/{server.id}/remote-consoles"
    assert raw(admin, "post", path, "2.5", json=_console("vnc", "novnc")).status_code == 404
    bad = raw(admin, "post", path, "2.6", json=_console("vnc", "serial"))
    assert bad.status_code == 400 and "badRequest" in bad.json()
    spice = raw(admin, "post", path, "2.6", json=_console("spice", "spice-html5"))
    assert spice.status_code == 400
    assert spice.json()["badRequest"]["message"] == "Unavailable console type spice-html5."
    assert raw(admin, "post", path, "2.6", json={}).status_code == 400
    gone = raw(admin, "post", "/servers/no-such-server/remote-consoles", "2.6",
               json=_console("serial", "serial"))  # fmt: skip
    assert gone.status_code == 404 and "itemNotFound" in gone.json()
    # the legacy actions end at 2.5, as in Nova
    late = raw(admin, "post", f"/servers/{server.id}/action", "2.6",
               json={"os-getSerialConsole": {"type": "serial"}})  # fmt: skip
    assert late.status_code == 404


def test_another_project_cannot_ask_for_a_console(admin: Any, demo: Any, make_server: Any) -> None:
    server = make_server(admin)
    resp = raw(demo, "post", f"/servers/{server.id}/remote-consoles", "2.6",
               json=_console("serial", "serial"))  # fmt: skip
    assert resp.status_code == 404
