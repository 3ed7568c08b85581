"""Console tickets: used once, only by the session that asked, only while fresh,
only from the dashboard's own pages; a good one relays the console's bytes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from onestack.dashboard import security
from onestack.dashboard.app import DashboardConfig, build_app
from onestack.dashboard.consoles import ConsoleTickets, websocket_url
from onestack.dashboard.keystone import Session


def _session(token: str) -> Session:
    return Session(
        token=token,
        user_id="u",
        user_name="demo",
        domain_name="Default",
        project_id="p",
        project_name="demo",
        roles=("member",),
        endpoints={},
        expires_at=time.time() + 3600,
    )


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    """A websocket server that echoes what it gets, standing in for a console proxy."""
    import websockets

    ready = threading.Event()
    holder: dict[str, object] = {}

    async def echo(connection: websockets.ServerConnection) -> None:
        async for message in connection:
            await connection.send(message)

    async def main() -> None:
        async with websockets.serve(echo, "127.0.0.1", 0) as server:
            holder["port"] = server.sockets[0].getsockname()[1]
            holder["stop"] = asyncio.get_running_loop().create_future()
            ready.set()
            await holder["stop"]  # type: ignore[misc]

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"ws://127.0.0.1:{holder['port']}/?token=secret"
    finally:
        loop.call_soon_threadsafe(holder["stop"].set_result, None)  # type: ignore[attr-defined]
        thread.join(10)


@pytest.fixture()
def client() -> Iterator[TestClient]:
    config = DashboardConfig(
        auth_url="http://127.0.0.1:9/v3",
        secret=b"s" * 32,
        session_check_seconds=3600,
        npm_dir=Path("/nonexistent"),
        console_ttl_seconds=5,
    )
    app = build_app(config)
    for token in ("token-a", "token-b"):
        app.state.dashboard.remember(_session(token))
    with TestClient(app) as test_client:
        yield test_client


def _ticket(client: TestClient, token: str, url: str) -> str:
    tickets: ConsoleTickets = client.app.state.dashboard.tickets  # type: ignore[attr-defined]
    return tickets.issue(security.session_key(token), url, "serial")


def _connect(client: TestClient, ticket: str, token: str, origin: str = "http://testserver"):
    client.cookies.set(security.SESSION_COOKIE, token)
    return client.websocket_connect(f"/console/ws/{ticket}", headers={"origin": origin})


def test_a_ticket_relays_the_console_once(client: TestClient, echo_url: str):
    ticket = _ticket(client, "token-a", echo_url)
    with _connect(client, ticket, "token-a") as ws:
        ws.send_bytes(b"ls\r")
        assert ws.receive_bytes() == b"ls\r"
    with pytest.raises(WebSocketDisconnect) as refused, _connect(client, ticket, "token-a") as ws:
        ws.receive_bytes()
    assert refused.value.code == 4403


def test_a_ticket_is_refused_to_another_session(client: TestClient, echo_url: str):
    ticket = _ticket(client, "token-a", echo_url)
    with pytest.raises(WebSocketDisconnect) as refused, _connect(client, ticket, "token-b") as ws:
        ws.receive_bytes()
    assert refused.value.code == 4403


def test_a_ticket_is_refused_from_another_site(client: TestClient, echo_url: str):
    ticket = _ticket(client, "token-a", echo_url)
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        _connect(client, ticket, "token-a", origin="http://evil.example") as ws,
    ):
        ws.receive_bytes()
    assert refused.value.code == 4403


def test_a_ticket_expires():
    tickets = ConsoleTickets(ttl=0.05)
    ticket = tickets.issue("s", "ws://h/", "serial")
    time.sleep(0.1)
    assert tickets.redeem(ticket, "s") is None


def test_an_unknown_ticket_or_no_session_is_refused(client: TestClient, echo_url: str):
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        _connect(client, "made-up", "token-a") as ws,
    ):
        ws.receive_bytes()
    assert refused.value.code == 4403
    ticket = _ticket(client, "token-a", echo_url)
    with pytest.raises(WebSocketDisconnect), _connect(client, ticket, "no-such-token") as ws:
        ws.receive_bytes()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ws://h:6083/?token=T", "ws://h:6083/?token=T"),
        ("http://h:6080/vnc_lite.html?path=%3Ftoken%3DT", "ws://h:6080/?token=T"),
        (
            "http://h:6080/vnc_auto.html?path=websockify%3Ftoken%3DT",
            "ws://h:6080/websockify?token=T",
        ),
        ("https://h:6080/vnc_auto.html?token=T", "wss://h:6080/websockify?token=T"),
    ],
)
def test_websocket_url_of_a_console_url(given: str, expected: str):
    assert websocket_url(given) == expected
