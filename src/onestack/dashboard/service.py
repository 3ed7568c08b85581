"""The dashboard's plug-in to the all-in-one server (port 8000, not in the catalog)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud


def load_secret(path: Path) -> bytes:
    """The secret that signs CSRF tokens, made once and kept (mode 0600)."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value.hex())
    return value


def config_for(settings: Settings) -> Any:
    from onestack.dashboard.app import DashboardConfig

    own = settings.dashboard
    return DashboardConfig(
        auth_url=own.auth_url or settings.url("identity") + "/v3",
        secret=load_secret(settings.state_dir / "secrets" / "dashboard-secret"),
        region=own.region or settings.region,
        secure_cookies=own.secure_cookies,
        session_check_seconds=own.session_check_seconds,
        vendor_dir=own.vendor_dir,
        novnc_dir=own.novnc_dir,
        npm_dir=own.npm_path,
        console_ttl_seconds=own.console_ttl_seconds,
    )


def _build_app(cloud: Cloud) -> Any:
    from onestack.dashboard.app import build_app

    return build_app(config_for(cloud.settings))


PLUGIN = ServicePlugin(name="dashboard", package=None, build_app=_build_app)
