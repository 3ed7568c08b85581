"""Fixtures of the Alarming API tests: aodhclient as admin and demo, an HTTP receiver
for alarm actions, and a cloud whose evaluator runs every second."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.cli import Cli
from tests.support.server import RunningCloud, new_cloud


def aodh(cloud: RunningCloud, user: str, project: str) -> Any:
    from aodhclient.v2 import client

    return client.Client(session=cloud.session(user, project))


@pytest.fixture(scope="session")
def alarms(cloud: RunningCloud) -> Any:
    return aodh(cloud, "admin", "admin")


@pytest.fixture(scope="session")
def alarms_demo(cloud: RunningCloud) -> Any:
    return aodh(cloud, "demo", "demo")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """An HTTP server on loopback that records every POST (alarm actions)."""

    port: int
    calls: list[Received] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, check: Callable[[list[Received]], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check(list(self.calls))
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError(f"no matching call in time; got {[c.path for c in self.calls]}")


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    calls: list[Received] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            calls.append(Received(self.path, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(server.server_address[1], calls)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="package")
def evaluating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """A cloud of its own whose evaluator runs every second (no metering poller)."""
    running = new_cloud(
        tmp_path_factory.mktemp("alarming"),
        ONESTACK_COMPUTE__DRIVER="fake",
        ONESTACK_ALARMING__EVALUATION_INTERVAL="1",
        ONESTACK_TELEMETRY__POLL_INTERVAL="0",
    ).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def osc(cloud: RunningCloud) -> Cli:
    return Cli(cloud)
