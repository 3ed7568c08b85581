"""Identity benchmark: token issue and validate throughput and latency, cold start, memory.

Starts its own ``onestack up`` (SQLite, a temporary state directory, free
ports), then drives it from this process with 8 concurrent clients over
keep-alive HTTP connections.  The clients share the machine's cores with
the server, so the figures are a lower bound of what the server can do.

    .venv/bin/python bench/identity.py [--seconds 10] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

SERVICES = (
    "identity",
    "image",
    "compute",
    "network",
    "volume",
    "object",
    "s3",
    "orchestration",
    "telemetry",
    "dashboard",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_clients(
    clients: int, seconds: float, make: Callable[[], Callable[[], None]]
) -> list[float]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        call = make()
        out = latencies[index]
        while time.monotonic() < deadline:
            began = time.perf_counter()
            call()
            out.append(time.perf_counter() - began)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [x for per in latencies for x in per]


async def _raw_clients(port: int, request: bytes, clients: int, seconds: float) -> list[float]:
    """Keep-alive HTTP/1.1 clients on raw asyncio streams: far cheaper per call than
    requests, so the figure is the server's and not the client's."""
    import asyncio

    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                if status != 200:
                    raise RuntimeError(f"status {status}")
                latencies.append(time.perf_counter() - began)
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(clients)))
    return latencies


def raw_clients(port: int, request: bytes, clients: int, seconds: float) -> list[float]:
    import asyncio

    return asyncio.run(_raw_clients(port, request, clients, seconds))


def report(name: str, latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)
    figures = {
        "ops_per_s": len(ordered) / seconds,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "count": len(ordered),
    }
    print(
        f"{name:<26} {figures['ops_per_s']:9.1f} ops/s   p50 {figures['p50_ms']:7.2f} ms"
        f"   p99 {figures['p99_ms']:7.2f} ms   ({len(ordered)} calls)"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="onestack-bench-"))
    ports = {name: free_port() for name in SERVICES}
    password = "bench-admin-password"
    command = [
        sys.executable,
        "-m",
        "onestack",
        "up",
        "--state-dir",
        str(state),
        "--no-user-clouds",
    ]
    for name, port in ports.items():
        command += ["--port", f"{name}={port}"]
    env = {**os.environ, "ONESTACK_ADMIN_PASSWORD": password, "ONESTACK_LOG_LEVEL": "warning"}
    url = f"http://127.0.0.1:{ports['identity']}/v3"
    auth = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "admin", "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }

    began = time.monotonic()
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        token = None
        while token is None:
            if server.poll() is not None:
                raise SystemExit("onestack exited during start-up")
            try:
                response = requests.post(f"{url}/auth/tokens", json=auth, timeout=5)
                if response.status_code == 201:
                    token = response.headers["X-Subject-Token"]
            except requests.ConnectionError:
                time.sleep(0.02)
        cold_start = time.monotonic() - began
        print(
            f"machine: {platform.node()} {os.cpu_count()} cpu, {platform.platform()}, "
            f"Python {platform.python_version()}"
        )
        print(f"cold start to first token   {cold_start:.2f} s")
        print(f"server RSS after start       {rss_mib(server.pid):.0f} MiB")

        def issuer() -> Callable[[], None]:
            session = requests.Session()

            def call() -> None:
                response = session.post(f"{url}/auth/tokens?nocatalog", json=auth, timeout=60)
                assert response.status_code == 201, response.text

            return call

        def validator(path: str) -> Callable[[], Callable[[], None]]:
            def make() -> Callable[[], None]:
                session = requests.Session()
                session.headers.update(
                    {"X-Auth-Token": token or "", "X-Subject-Token": token or ""}
                )

                def call() -> None:
                    response = session.get(f"{url}{path}", timeout=60)
                    assert response.status_code == 200, response.text

                return call

            return make

        def raw_get(path: str) -> bytes:
            return (
                f"GET /v3{path} HTTP/1.1\r\nHost: 127.0.0.1:{ports['identity']}\r\n"
                f"X-Auth-Token: {token}\r\nX-Subject-Token: {token}\r\n\r\n"
            ).encode()

        results = {
            "token_validate_raw": report(
                "validate, raw HTTP client",
                raw_clients(
                    ports["identity"], raw_get("/auth/tokens?nocatalog"), args.clients, args.seconds
                ),
                args.seconds,
            ),
            "token_issue": report(
                "token issue (argon2id)",
                run_clients(args.clients, args.seconds, issuer),
                args.seconds,
            ),
            "token_validate": report(
                "token validate (GET)",
                run_clients(args.clients, args.seconds, validator("/auth/tokens?nocatalog")),
                args.seconds,
            ),
            "token_validate_catalog": report(
                "token validate + catalog",
                run_clients(args.clients, args.seconds, validator("/auth/tokens")),
                args.seconds,
            ),
            "authenticated_call": report(
                "authenticated GET /v3/users",
                run_clients(args.clients, args.seconds, validator("/users")),
                args.seconds,
            ),
        }
        rss = rss_mib(server.pid)
        print(f"server RSS after load        {rss:.0f} MiB")
        print(json.dumps({"cold_start_s": cold_start, "rss_mib": rss, **results}))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        remove_data_plane(state)
        shutil.rmtree(state, ignore_errors=True)


def remove_data_plane(state: Path) -> None:
    """The namespaces and links this run's onestack made (as root: network `public`)."""
    from onestack.network.drivers.linux import commands
    from onestack.network.drivers.linux.registry import Registry, registry_dir

    if not registry_dir(state).is_dir():
        return
    owned = Registry(registry_dir(state)).names()
    for ns in commands.namespaces() & owned:
        for pid in commands.pids_in(ns):
            os.kill(pid, signal.SIGTERM)
        commands.delete_netns(ns)
    for link in commands.links() & owned:
        commands.ip("link", "del", link, check=False)


if __name__ == "__main__":
    main()
