"""A thin, typed wrapper around the ``runc`` command line.

Every container lives under one ``--root`` directory, so ``runc list`` there
is exactly onestack's containers.  ``run`` starts a detached container in its
own session (it outlives onestack), stdin from /dev/null and its console
appended to a log file.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onestack.compute.exceptions import DriverError


@dataclass(frozen=True)
class ContainerState:
    id: str
    status: str  # created, running, paused, stopped
    pid: int
    bundle: str


class Runc:
    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _cmd(self, *args: str) -> list[str]:
        return [self.binary, "--root", str(self.root), *args]

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> str:
        proc = subprocess.run(
            self._cmd(*args),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
        if check and proc.returncode != 0:
            raise DriverError(reason=f"runc {args[0]} failed: {proc.stderr.strip()[-500:]}")
        return proc.stdout

    def run(self, container_id: str, bundle: Path, console: Path) -> None:
        with open(console, "ab") as log:
            proc = subprocess.run(
                self._cmd("run", "--detach", "--bundle", str(bundle), container_id),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                timeout=60,
                start_new_session=True,
            )
        if proc.returncode != 0:
            tail = console.read_bytes()[-500:].decode(errors="replace").strip()
            raise DriverError(reason=f"runc run {container_id} failed: {tail}")

    def state(self, container_id: str) -> ContainerState | None:
        proc = subprocess.run(
            self._cmd("state", container_id),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if proc.returncode != 0:
            return None
        return _state(json.loads(proc.stdout))

    def list(self) -> list[ContainerState]:
        out = self._run("list", "--format", "json")
        data = json.loads(out or "null") or []
        return [_state(item) for item in data]

    def kill(self, container_id: str, signal: str) -> None:
        self._run("kill", container_id, signal, check=False)

    def delete(self, container_id: str) -> None:
        self._run("delete", "--force", container_id, check=False)

    def pause(self, container_id: str) -> None:
        self._run("pause", container_id)

    def resume(self, container_id: str) -> None:
        self._run("resume", container_id)

    def update(
        self, container_id: str, *, memory: int, cpu_shares: int, cpu_quota: int, pids: int
    ) -> None:
        self._run(
            "update",
            "--memory",
            str(memory),
            "--memory-swap",
            str(memory),
            "--cpu-share",
            str(cpu_shares),
            "--cpu-period",
            "100000",
            "--cpu-quota",
            str(cpu_quota),
            "--pids-limit",
            str(pids),
            container_id,
        )

    def version(self) -> str:
        out = subprocess.run(
            [self.binary, "--version"], capture_output=True, text=True, timeout=10
        ).stdout
        first = out.splitlines()[0] if out else ""
        return first.rsplit(" ", 1)[-1]


def _state(data: dict[str, Any]) -> ContainerState:
    return ContainerState(
        id=str(data.get("id")),
        status=str(data.get("status")),
        pid=int(data.get("pid") or 0),
        bundle=str(data.get("bundle", "")),
    )
