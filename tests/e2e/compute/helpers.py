"""Reading what really runs on the host: runc state, cgroups, mounts."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any


def runc_state(state_dir: Path, server_id: str) -> dict[str, Any] | None:
    proc = subprocess.run(
        ["runc", "--root", str(state_dir / "compute" / "runc"), "state", server_id],
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def cgroup_dir(pid: int, controller: str) -> Path:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return Path("/sys/fs/cgroup") / controller / path.lstrip("/")
    raise AssertionError(f"no {controller} cgroup for {pid}")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def mounted_under(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as handle:
        return [line.split()[4] for line in handle if line.split()[4].startswith(str(path))]


def onestack_cgroups(server_id: str) -> list[Path]:
    return list(Path("/sys/fs/cgroup").glob(f"*/**/onestack-{server_id}"))


def wait_for(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
