"""The dashboard from the command line: listed by `onestack status`, printed by
`onestack up`, and served on its own by `onestack dashboard` against a cloud."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from tests.functional.dashboard.test_security import _login
from tests.support.server import RunningCloud, free_port


def test_status_lists_the_dashboard_and_up_prints_it(dash_cloud: RunningCloud):
    out = subprocess.run(
        [sys.executable, "-m", "onestack", "status", "--state-dir", str(dash_cloud.state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.strip().startswith("dashboard"))
    assert dash_cloud.url("dashboard") in line
    assert "answers (200)" in line
    log = dash_cloud.log_path.read_text()
    assert (
        f"dashboard: {dash_cloud.url('dashboard')}/ (domain Default, user demo, "
        f"password {dash_cloud.demo_password})"
    ) in log


def test_the_dashboard_runs_on_its_own(dash_cloud: RunningCloud, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "onestack", "dashboard", "--auth-url", dash_cloud.auth_url,
         "--port", str(port), "--secret-file", str(tmp_path / "secret")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/login").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        with httpx.Client(base_url=base) as client:
            _login(client, "demo", dash_cloud.demo_password)
            servers = client.get("/api/compute/servers")
            assert servers.status_code == 200
            assert "servers" in servers.json()
        assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    finally:
        process.terminate()
        process.wait(10)
