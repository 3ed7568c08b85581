"""User stories with the `openstack` CLI as a subprocess (python-openstackclient)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.names import unique
from tests.support.server import RunningCloud

pytestmark = pytest.mark.cli


def openstack(
    cloud: RunningCloud, name: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", name, *args]
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_image_story(cloud: RunningCloud, demo: Any, tmp_path: Path) -> None:
    name = unique("cli-img")
    source = tmp_path / "disk.raw"
    source.write_bytes(os.urandom(3 << 20))
    created = as_json(
        openstack(
            cloud,
            "onestack",
            "image",
            "create",
            "--file",
            str(source),
            "--disk-format",
            "raw",
            "--container-format",
            "bare",
            "--shared",
            "--property",
            "purpose=cli-test",
            name,
            "-f",
            "json",
        )
    )
    image_id = created["id"]
    try:
        listed = as_json(
            openstack(
                cloud,
                "onestack",
                "image",
                "list",
                "--property",
                "purpose=cli-test",
                "--long",
                "-f",
                "json",
            )
        )
        assert image_id in {row["ID"] for row in listed}
        openstack(cloud, "onestack", "image", "set", "--property", "colour=green", image_id)
        shown = as_json(openstack(cloud, "onestack", "image", "show", image_id, "-f", "json"))
        assert shown["status"] == "active" and shown["size"] == 3 << 20
        assert shown["properties"]["colour"] == "green"
        saved = tmp_path / "saved.raw"
        openstack(cloud, "onestack", "image", "save", "--file", str(saved), image_id)
        assert saved.read_bytes() == source.read_bytes()
        # share with the demo project; demo accepts and sees it
        project = demo.current_project_id
        openstack(cloud, "onestack", "image", "add", "project", image_id, project)
        before = as_json(openstack(cloud, "onestack-demo", "image", "list", "-f", "json"))
        assert image_id not in {row["ID"] for row in before}
        openstack(cloud, "onestack-demo", "image", "set", "--accept", image_id)
        after = as_json(openstack(cloud, "onestack-demo", "image", "list", "-f", "json"))
        assert image_id in {row["ID"] for row in after}
        openstack(cloud, "onestack", "image", "set", "--deactivate", image_id)
        openstack(cloud, "onestack", "image", "set", "--activate", image_id)
    finally:
        openstack(cloud, "onestack", "image", "delete", image_id)
    gone = openstack(cloud, "onestack", "image", "show", image_id, check=False)
    assert gone.returncode != 0 and "No Image found" in gone.stderr


def test_demo_cannot_see_admin_private_image(cloud: RunningCloud, admin: Any) -> None:
    image = admin.image.create_image(
        name=unique("cli-private"),
        disk_format="raw",
        container_format="bare",
        visibility="private",
        allow_duplicates=True,
    )
    try:
        result = openstack(cloud, "onestack-demo", "image", "show", image.id, check=False)
        assert result.returncode != 0
        assert "No Image found" in result.stderr
    finally:
        admin.image.delete_image(image)
