"""The dashboard's settings."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel, Field


class DashboardSettings(BaseModel):
    auth_url: str | None = Field(
        None,
        description="Keystone v3 URL the dashboard logs users in against; "
        "default this onestack's identity API.",
    )
    region: str | None = Field(
        None, description="Region of the catalog endpoints to use; default the cloud's region."
    )
    secure_cookies: bool = Field(
        False, description="Mark the session cookie Secure (serve the dashboard over HTTPS)."
    )
    session_check_seconds: float = Field(
        30.0,
        ge=0,
        description="How long a validated token is trusted before Keystone is asked again.",
    )
    vendor_dir: Path = Field(
        Path("/usr/share/javascript"),
        description="Debian's JavaScript libraries (libjs-chart.js).",
    )
    novnc_dir: Path = Field(Path("/usr/share/novnc"), description="Debian's noVNC.")
    npm_dir: Path | None = Field(
        None,
        description="npm packages (@xterm/xterm, @xterm/addon-fit); default "
        "<python prefix>/npm/node_modules, where scripts/install puts them.",
    )

    @property
    def npm_path(self) -> Path:
        return self.npm_dir or Path(sys.prefix) / "npm" / "node_modules"

    console_ttl_seconds: float = Field(
        30.0, gt=0, description="How long a console ticket stays usable (it is used once)."
    )
