"""Start a real ``onestack up`` in a subprocess on free ports, for tests.

``RunningCloud`` knows the endpoints, the bootstrap passwords and the
clouds.yaml it wrote; ``stop()`` ends exactly the process it started (by
PID) and waits for it, and ``kill()`` sends SIGKILL for crash tests.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVICE_NAMES = (
    "identity",
    "image",
    "compute",
    "network",
    "volume",
    "object",
    "orchestration",
    "telemetry",
    "alarming",
    "dashboard",
    "s3",
    "novncproxy",
    "serialproxy",
)


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(count: int) -> list[int]:
    """Distinct free ports below the ephemeral range.

    Ports handed out by ``bind(0)`` come from the ephemeral range, where any
    outgoing connection may take them before the server binds; below it only
    listeners live, so a port found free stays free.
    """
    floor = _ephemeral_floor()
    low = max(1024, floor - 12000)
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            port = random.randint(low, floor - 1)
            if port in ports:
                continue
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            held.append(sock)
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


def free_port() -> int:
    return free_ports(1)[0]


@dataclass
class RunningCloud:
    state_dir: Path
    ports: dict[str, int]
    admin_password: str
    demo_password: str
    db_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    startup_seconds: float = 0.0

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['identity']}/v3"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def clouds_yaml(self) -> Path:
        return self.state_dir / "clouds.yaml"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "test-server.log"

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "onestack",
            "up",
            "--state-dir",
            str(self.state_dir),
            "--no-user-clouds",
        ]
        for name, port in self.ports.items():
            cmd += ["--port", f"{name}={port}"]
        if self.db_url:
            cmd += ["--db-url", self.db_url]
        return cmd

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["ONESTACK_ADMIN_PASSWORD"] = self.admin_password
        env["ONESTACK_DEMO_PASSWORD"] = self.demo_password
        env["ONESTACK_LOG_LEVEL"] = "warning"
        # no bridges/namespaces unless a test asks (extra_env), so clouds never clash
        env["ONESTACK_NETWORK__DATA_PLANE"] = "off"
        # volumes in a plain directory unless a test asks for the loop-mounted pool
        env["ONESTACK_VOLUME__POOL_FILESYSTEM"] = "directory"
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> RunningCloud:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state_file = self.state_dir / "onestack.state.json"
        state_file.unlink(missing_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (handed to the child)
        began = time.monotonic()
        self.process = subprocess.Popen(
            self.command(), env=self.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        log.close()
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"onestack exited with {self.process.returncode}:\n"
                    + self.log_path.read_text(errors="replace")[-4000:]
                )
            if state_file.exists():
                try:
                    state = json.loads(state_file.read_text())
                except ValueError:
                    state = {}
                if state.get("pid") == self.process.pid:
                    self.startup_seconds = time.monotonic() - began
                    return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(
            "onestack did not become ready:\n" + self.log_path.read_text(errors="replace")[-4000:]
        )

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def cloud_config(self, user: str = "admin", project: str | None = "admin") -> dict[str, Any]:
        password = self.admin_password if user == "admin" else self.demo_password
        auth: dict[str, Any] = {
            "auth_url": self.auth_url,
            "username": user,
            "password": password,
            "user_domain_id": "default",
        }
        if project:
            auth["project_name"] = project
            auth["project_domain_id"] = "default"
        return {"auth": auth, "region_name": "RegionOne", "identity_api_version": "3"}

    def session(self, user: str = "admin", project: str | None = "admin") -> Any:
        """A keystoneauth1 session as ``user`` (for the services' own client libraries)."""
        from keystoneauth1 import identity, session

        return session.Session(auth=identity.Password(**self.cloud_config(user, project)["auth"]))

    def connect(self, user: str = "admin", project: str | None = "admin", **auth: Any) -> Any:
        import openstack

        config = self.cloud_config(user, project)
        config["auth"].update(auth)
        return openstack.connect(
            **config["auth"], region_name="RegionOne", identity_api_version="3"
        )


def new_cloud(base: Path, db_url: str | None = None, **env: str) -> RunningCloud:
    ports = dict(zip(SERVICE_NAMES, free_ports(len(SERVICE_NAMES)), strict=True))
    return RunningCloud(
        state_dir=base / f"cloud-{uuid.uuid4().hex[:8]}",
        ports=ports,
        admin_password=f"admin-{uuid.uuid4().hex[:12]}",
        demo_password=f"demo-{uuid.uuid4().hex[:12]}",
        db_url=db_url,
        extra_env=dict(env),
    )
