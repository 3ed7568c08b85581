"""User stories with the `openstack` CLI as a subprocess (python-openstackclient)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.functional.identity.helpers import unique
from tests.support.server import RunningCloud

pytestmark = pytest.mark.cli


def openstack(
    cloud: RunningCloud,
    name: str,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", name, *args]
    full_env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml), **(env or {})}
    result = subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_token_issue_and_revoke(cloud: RunningCloud) -> None:
    issued = as_json(openstack(cloud, "onestack", "token", "issue", "-f", "json"))
    assert issued["project_id"] and issued["user_id"] and issued["id"]
    openstack(cloud, "onestack", "token", "revoke", issued["id"])
    env = {"OS_AUTH_TYPE": "token", "OS_TOKEN": issued["id"]}
    refused = openstack(cloud, "onestack", "project", "list", check=False, env=env)
    assert refused.returncode != 0


def test_admin_story(cloud: RunningCloud) -> None:
    project, user, group = unique("cli-p"), unique("cli-u"), unique("cli-g")
    openstack(cloud, "onestack", "project", "create", "--description", "from the CLI", project)
    openstack(
        cloud,
        "onestack",
        "user",
        "create",
        "--password",
        "cli-pass-123",
        "--project",
        project,
        user,
    )
    openstack(cloud, "onestack", "group", "create", group)
    openstack(cloud, "onestack", "group", "add", "user", group, user)
    openstack(cloud, "onestack", "role", "add", "--user", user, "--project", project, "member")
    rows = as_json(
        openstack(
            cloud, "onestack", "role", "assignment", "list", "--user", user, "--names", "-f", "json"
        )
    )
    assert [(r["Role"], r["Project"]) for r in rows] == [("member", f"{project}@Default")]
    projects = as_json(openstack(cloud, "onestack", "project", "list", "-f", "json"))
    assert project in {p["Name"] for p in projects}
    shown = as_json(openstack(cloud, "onestack", "user", "show", user, "-f", "json"))
    assert shown["name"] == user
    openstack(cloud, "onestack", "role", "remove", "--user", user, "--project", project, "member")
    openstack(cloud, "onestack", "user", "delete", user)
    openstack(cloud, "onestack", "group", "delete", group)
    openstack(cloud, "onestack", "project", "delete", project)
    listed = as_json(openstack(cloud, "onestack", "user", "list", "-f", "json"))
    assert user not in {u["Name"] for u in listed}


def test_catalog_list(cloud: RunningCloud) -> None:
    rows = as_json(openstack(cloud, "onestack", "catalog", "list", "-f", "json"))
    assert "identity" in {r["Type"] for r in rows}


def test_application_credential_story(cloud: RunningCloud, tmp_path: Path) -> None:
    name = unique("cli-ac")
    cred = as_json(
        openstack(cloud, "onestack-demo", "application", "credential", "create", name, "-f", "json")
    )
    assert cred["Secret"]
    env = {
        "OS_AUTH_TYPE": "v3applicationcredential",
        "OS_APPLICATION_CREDENTIAL_ID": cred["ID"],
        "OS_APPLICATION_CREDENTIAL_SECRET": cred["Secret"],
        "OS_AUTH_URL": cloud.auth_url,
        "OS_IDENTITY_API_VERSION": "3",
        "OS_REGION_NAME": "RegionOne",
    }
    command = [str(Path(sys.executable).with_name("openstack")), "token", "issue", "-f", "json"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    result = subprocess.run(
        command, capture_output=True, text=True, env={**clean, **env}, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["project_id"]
    openstack(cloud, "onestack-demo", "application", "credential", "delete", name)


def test_demo_is_forbidden_to_list_users(cloud: RunningCloud) -> None:
    refused = openstack(cloud, "onestack-demo", "user", "list", check=False)
    assert refused.returncode != 0
    assert "403" in refused.stderr or "not authorized" in refused.stderr.lower()


def test_user_sets_own_password(cloud: RunningCloud) -> None:
    user = unique("cli-pw")
    openstack(
        cloud, "onestack", "user", "create", "--password", "first-pass-1", "--project", "demo", user
    )
    openstack(cloud, "onestack", "role", "add", "--user", user, "--project", "demo", "member")
    env = {"OS_USERNAME": user, "OS_PASSWORD": "first-pass-1"}
    openstack(
        cloud,
        "onestack-demo",
        "user",
        "password",
        "set",
        "--original-password",
        "first-pass-1",
        "--password",
        "second-pass-2",
        env=env,
    )
    env = {"OS_USERNAME": user, "OS_PASSWORD": "second-pass-2"}
    issued = as_json(openstack(cloud, "onestack-demo", "token", "issue", "-f", "json", env=env))
    assert issued["user_id"]
    openstack(cloud, "onestack", "user", "delete", user)
