"""``clouds.yaml`` entries for the bootstrap users.

The file in the state directory holds only onestack's entries; the user's
``~/.config/openstack/clouds.yaml`` gets the same entries merged in, every
other entry and key left as it was.  A user file that is not valid YAML is
never overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from onestack.config import Settings
from onestack.identity.bootstrap import BootstrapResult


def entries(settings: Settings, result: BootstrapResult) -> dict[str, dict[str, Any]]:
    auth_url = settings.url("identity") + "/v3"

    def entry(
        username: str, password: str, project: str | None, system: bool = False
    ) -> dict[str, Any]:
        auth: dict[str, Any] = {
            "auth_url": auth_url,
            "username": username,
            "password": password,
            "user_domain_name": "Default",
        }
        if system:
            auth["system_scope"] = "all"
        else:
            auth["project_name"] = project
            auth["project_domain_name"] = "Default"
        return {
            "auth": auth,
            "region_name": settings.region,
            "interface": "public",
            "identity_api_version": 3,
        }

    return {
        "onestack": entry("admin", result.admin_password, "admin"),
        "onestack-demo": entry("demo", result.demo_password, "demo"),
        "onestack-system": entry("admin", result.admin_password, None, system=True),
    }


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(document, handle, default_flow_style=False, sort_keys=False)
    os.replace(tmp, path)


def write_clouds(settings: Settings, result: BootstrapResult) -> list[str]:
    """Write the state dir's clouds.yaml and merge into the user's; returns warnings."""
    ours = entries(settings, result)
    _write(settings.state_dir / "clouds.yaml", {"clouds": ours})
    target = settings.user_clouds_yaml
    if target is None:
        return []
    document: dict[str, Any] = {}
    if target.exists():
        try:
            loaded = yaml.safe_load(target.read_text()) or {}
        except yaml.YAMLError as exc:
            return [f"{target} is not valid YAML ({exc}); left it unchanged"]
        if not isinstance(loaded, dict):
            return [f"{target} is not a mapping; left it unchanged"]
        document = loaded
    clouds = document.get("clouds")
    if not isinstance(clouds, dict):
        clouds = {}
    clouds.update(ours)
    document["clouds"] = clouds
    _write(target, document)
    return []
