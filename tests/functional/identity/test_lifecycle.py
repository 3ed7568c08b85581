"""onestack up/down/status, restarts, crashes, key rotation, policy file overrides."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.functional.identity.helpers import Client, assert_error, issue, token, unique
from tests.support.server import RunningCloud, new_cloud


def onestack(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onestack", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture()
def own_cloud(tmp_path: Path) -> RunningCloud:
    running = new_cloud(tmp_path)
    yield running
    running.stop()


def test_kill_9_loses_no_acknowledged_write_and_keeps_tokens(own_cloud: RunningCloud) -> None:
    own_cloud.start()
    admin = Client(own_cloud, token(own_cloud))
    held = token(own_cloud, "demo", "demo")
    names = [unique("durable") for _ in range(20)]
    for name in names:
        assert admin.post("/users", json={"user": {"name": name}}).status_code == 201
    own_cloud.kill()
    own_cloud.start()
    admin = Client(own_cloud, token(own_cloud))
    listed = {u["name"] for u in admin.get("/users").json()["users"]}
    assert set(names) <= listed
    assert Client(own_cloud, held).get("/auth/projects").status_code == 200


def test_second_start_reuses_state_and_passwords(own_cloud: RunningCloud) -> None:
    own_cloud.start()
    first = json.loads((own_cloud.state_dir / "onestack.state.json").read_text())
    project_id = issue(own_cloud, "demo", own_cloud.demo_password).json()["token"]["project"]["id"]
    assert own_cloud.stop() == 0
    # without the env passwords, the saved ones are used
    own_cloud.extra_env = {"ONESTACK_ADMIN_PASSWORD": "", "ONESTACK_DEMO_PASSWORD": ""}
    saved = (own_cloud.state_dir / "secrets" / "demo-password").read_text().strip()
    assert saved == own_cloud.demo_password
    own_cloud.start()
    second = json.loads((own_cloud.state_dir / "onestack.state.json").read_text())
    assert second["pid"] != first["pid"]
    again = issue(own_cloud, "demo", own_cloud.demo_password).json()["token"]["project"]["id"]
    assert again == project_id


def test_clouds_yaml_entries(own_cloud: RunningCloud) -> None:
    own_cloud.start()
    clouds = yaml.safe_load(own_cloud.clouds_yaml.read_text())["clouds"]
    assert {"onestack", "onestack-demo", "onestack-system"} <= set(clouds)
    assert clouds["onestack"]["auth"]["auth_url"] == own_cloud.auth_url
    assert clouds["onestack-demo"]["auth"]["project_name"] == "demo"
    assert oct(own_cloud.clouds_yaml.stat().st_mode & 0o777) == "0o600"


def test_user_clouds_yaml_is_merged_not_replaced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    user_file = home / ".config" / "openstack" / "clouds.yaml"
    user_file.parent.mkdir(parents=True)
    user_file.write_text(
        yaml.safe_dump({"clouds": {"mine": {"auth": {"auth_url": "x"}}}, "extra": 1})
    )
    running = new_cloud(tmp_path)
    command = [c for c in running.command() if c != "--no-user-clouds"]
    env = {**running.env(), "HOME": str(home)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline and not (running.state_dir / "onestack.state.json").exists()
        ):
            time.sleep(0.05)
        merged = yaml.safe_load(user_file.read_text())
        assert merged["extra"] == 1
        assert merged["clouds"]["mine"] == {"auth": {"auth_url": "x"}}
        assert merged["clouds"]["onestack"]["auth"]["username"] == "admin"
    finally:
        process.terminate()
        process.wait(30)


def test_detach_status_down(tmp_path: Path) -> None:
    running = new_cloud(tmp_path)
    state = str(running.state_dir)
    args = ["up", "--detach", *running.command()[4:]]
    started = onestack(*args, env=running.env())
    assert started.returncode == 0, started.stderr
    assert "running in the background" in started.stdout
    try:
        status = onestack("status", "--state-dir", state)
        assert status.returncode == 0
        assert "identity" in status.stdout and "answers (300)" in status.stdout
        assert issue(running, "admin", running.admin_password).status_code == 201
        # a second background start is refused and leaves the running one findable
        clash = onestack(*args, env=running.env())
        assert clash.returncode != 0 and "another onestack is running" in clash.stderr
        assert onestack("status", "--state-dir", state).returncode == 0
    finally:
        stopped = onestack("down", "--state-dir", state)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    after = onestack("status", "--state-dir", state)
    assert after.returncode == 3 and "not running" in after.stdout
    with pytest.raises(requests.ConnectionError):
        requests.get(running.auth_url, timeout=2)


def test_sigterm_stops_cleanly(own_cloud: RunningCloud) -> None:
    own_cloud.start()
    assert own_cloud.stop() == 0
    assert not (own_cloud.state_dir / "onestack.state.json").exists()


def test_second_instance_on_same_state_dir_is_refused(own_cloud: RunningCloud) -> None:
    own_cloud.start()
    clash = onestack(*own_cloud.command()[3:], env=own_cloud.env(), timeout=60)
    assert clash.returncode != 0
    assert "another onestack is running" in clash.stderr


def test_port_in_use_is_a_clear_error(own_cloud: RunningCloud, tmp_path: Path) -> None:
    own_cloud.start()
    other = new_cloud(tmp_path / "other")
    other.ports["identity"] = own_cloud.ports["identity"]
    clash = onestack(*other.command()[3:], env=other.env(), timeout=60)
    assert clash.returncode != 0
    assert "cannot listen" in clash.stderr


def test_key_rotation_keeps_issued_tokens_valid(own_cloud: RunningCloud) -> None:
    own_cloud.start()
    before = token(own_cloud, "demo", "demo")
    for _ in range(4):  # more rotations than max active keys would drop it: 3 is the limit
        rotated = onestack("keys", "rotate", "--state-dir", str(own_cloud.state_dir))
        assert rotated.returncode == 0, rotated.stderr
        if _ == 0:
            assert Client(own_cloud, before).get("/auth/projects").status_code == 200
            after = token(own_cloud, "demo", "demo")
            assert Client(own_cloud, after).get("/auth/projects").status_code == 200
    keys = sorted(
        p.name for p in (own_cloud.state_dir / "fernet-keys").iterdir() if p.name.isdigit()
    )
    assert len(keys) == 3 and keys[0] == "0"
    # after enough rotations the key that signed the first token is gone
    assert_error(Client(own_cloud, before).get("/auth/projects"), 401)


def test_policy_file_overrides_and_reloads(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"identity:list_users": "role:member"\n')
    running = new_cloud(tmp_path, ONESTACK_POLICY_FILE=str(policy))
    running.start()
    try:
        demo = Client(running, token(running, "demo", "demo"))
        assert demo.get("/users").status_code == 200
        policy.write_text('"identity:list_users": "!"\n"identity:get_region": "!"\n')
        time.sleep(1.2)  # the file is checked at most once a second
        assert_error(demo.get("/users"), 403)
        admin = Client(running, token(running))
        assert_error(admin.get("/users"), 403)
        assert_error(admin.get("/regions/RegionOne"), 403)
    finally:
        running.stop()


@pytest.mark.rabbitmq
def test_runs_on_the_rabbitmq_bus(tmp_path: Path) -> None:
    from tests.support.databases import RABBITMQ, reachable

    if not reachable(RABBITMQ):
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    running = new_cloud(tmp_path, ONESTACK_BUS_URL="amqp://guest:guest@127.0.0.1:5672/")
    running.start()
    try:
        assert issue(running, "admin", running.admin_password).status_code == 201
    finally:
        assert running.stop() == 0


def test_restart_keeps_a_password_changed_through_the_api(own_cloud: RunningCloud) -> None:
    own_cloud.start()
    demo = Client(own_cloud, token(own_cloud, "demo", "demo"))
    me = demo.get("/auth/tokens", headers={"X-Subject-Token": demo.token}).json()["token"]["user"][
        "id"
    ]
    changed = demo.post(
        f"/users/{me}/password",
        json={
            "user": {"original_password": own_cloud.demo_password, "password": "changed-by-demo-1"}
        },
    )
    assert changed.status_code == 204
    own_cloud.stop()
    own_cloud.extra_env = {"ONESTACK_DEMO_PASSWORD": ""}  # not named by the settings
    own_cloud.start()
    assert issue(own_cloud, "demo", "changed-by-demo-1").status_code == 201
    own_cloud.stop()
    own_cloud.extra_env = {}  # the settings name the password again: it is applied
    own_cloud.start()
    assert issue(own_cloud, "demo", own_cloud.demo_password).status_code == 201
    assert_error(issue(own_cloud, "demo", "changed-by-demo-1"), 401)
