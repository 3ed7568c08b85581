"""User stories with the `swift` and `openstack` CLIs as subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.names import unique
from tests.support.server import RunningCloud

pytestmark = pytest.mark.cli

BIN = Path(sys.executable).parent


def run(cloud: RunningCloud, tool: str, *args: str, cwd: Path | None = None) -> str:
    env = dict(os.environ)
    env.update(
        {
            "OS_AUTH_URL": cloud.auth_url,
            "OS_USERNAME": "admin",
            "OS_PASSWORD": cloud.admin_password,
            "OS_PROJECT_NAME": "admin",
            "OS_USER_DOMAIN_ID": "default",
            "OS_PROJECT_DOMAIN_ID": "default",
            "OS_IDENTITY_API_VERSION": "3",
            "OS_AUTH_VERSION": "3",
            "OS_REGION_NAME": "RegionOne",
        }
    )
    result = subprocess.run(
        [str(BIN / tool), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_swift_cli_upload_list_download_delete(cloud: RunningCloud, tmp_path: Path) -> None:
    container = unique("cli")
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "hello.txt").write_text("hello from the swift CLI\n")
    run(cloud, "swift", "upload", container, "up/hello.txt", cwd=tmp_path)
    assert run(cloud, "swift", "list", container).split() == ["up/hello.txt"]
    stat = run(cloud, "swift", "stat", container)
    assert "Objects: 1" in stat
    out = tmp_path / "out"
    out.mkdir()
    run(cloud, "swift", "download", container, "up/hello.txt", "-o", str(out / "h.txt"))
    assert (out / "h.txt").read_text() == "hello from the swift CLI\n"
    run(cloud, "swift", "delete", container)
    assert container not in run(cloud, "swift", "list").split()


def test_openstack_cli_container_and_object(
    cloud: RunningCloud, tmp_path: Path, swift: Any
) -> None:
    container = unique("osc")
    run(cloud, "openstack", "container", "create", container)
    (tmp_path / "doc.txt").write_text("via openstack CLI")
    run(cloud, "openstack", "object", "create", container, "doc.txt", cwd=tmp_path)
    listing = run(cloud, "openstack", "object", "list", container, "-f", "value", "-c", "Name")
    assert listing.split() == ["doc.txt"]
    assert swift.get_object(container, "doc.txt")[1] == b"via openstack CLI"
    run(cloud, "openstack", "container", "delete", "--recursive", container)
    assert container not in run(cloud, "openstack", "container", "list", "-f", "value").split()
