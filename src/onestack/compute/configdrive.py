"""The config drive's content in OpenStack's layout (``openstack/latest/...``).

``write_config_drive(spec, directory)`` writes ``meta_data.json``,
``user_data`` (when given), ``network_data.json`` and ``vendor_data.json``
the way Nova's config drive and metadata service present them, so that
cloud-init (or the busybox image's init) reads keys and user data there.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from onestack.compute.driver import InstanceSpec


def meta_data(spec: InstanceSpec) -> dict[str, Any]:
    keys = []
    public_keys = {}
    if spec.key_name and spec.key_data:
        public_keys[spec.key_name] = spec.key_data
        keys.append({"name": spec.key_name, "type": "ssh", "data": spec.key_data})
    return {
        "uuid": spec.id,
        "name": spec.name,
        "hostname": spec.hostname,
        "launch_index": spec.launch_index,
        "availability_zone": spec.availability_zone,
        "project_id": spec.project_id,
        "meta": dict(spec.metadata),
        "public_keys": public_keys,
        "keys": keys,
        "devices": [],
        "random_seed": base64.b64encode(os.urandom(64)).decode(),
    }


def decode_user_data(user_data: str | None) -> bytes | None:
    if user_data is None:
        return None
    try:
        return base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError):
        return user_data.encode()


def write_config_drive(spec: InstanceSpec, directory: Path) -> None:
    """Write (or rewrite) the config drive directory for ``spec``."""
    latest = directory / "openstack" / "latest"
    latest.mkdir(parents=True, exist_ok=True)
    (latest / "meta_data.json").write_text(json.dumps(meta_data(spec)))
    (latest / "network_data.json").write_text(
        json.dumps({"links": [], "networks": [], "services": []})
    )
    (latest / "vendor_data.json").write_text("{}")
    (latest / "vendor_data2.json").write_text("{}")
    data = decode_user_data(spec.user_data)
    user_data = latest / "user_data"
    if data is not None:
        user_data.write_bytes(data)
    elif user_data.exists():
        user_data.unlink()
