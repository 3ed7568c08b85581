"""The one typed settings object.

Values come, highest priority first, from command-line flags (passed as keyword
arguments), environment variables (``ONESTACK_*``; nested fields with ``__``,
for example ``ONESTACK_PORTS__IDENTITY=15000``), the TOML file named by
``--config``/``ONESTACK_CONFIG`` or ``<state_dir>/onestack.toml``, and the
defaults below.  docs/configuration.md is the reference for every field.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from onestack.alarming.conf import AlarmingSettings
from onestack.compute.conf import ComputeSettings
from onestack.dashboard.conf import DashboardSettings
from onestack.identity.conf import IdentitySettings
from onestack.image.conf import ImageSettings
from onestack.network.conf import NetworkSettings
from onestack.object.conf import ObjectSettings
from onestack.orchestration.conf import OrchestrationSettings
from onestack.telemetry.conf import TelemetrySettings
from onestack.volume.conf import VolumeSettings

SERVICE_NAMES = (
    "identity",
    "image",
    "compute",
    "network",
    "volume",
    "object",
    "orchestration",
    "telemetry",
    "alarming",
    "dashboard",
    "s3",
    "novncproxy",
    "serialproxy",
)


def default_state_dir() -> Path:
    """``/var/lib/onestack`` for root, the XDG data directory for anyone else."""
    if os.geteuid() == 0:
        return Path("/var/lib/onestack")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "onestack"


class Ports(BaseModel):
    """The TCP port of every service's API (DESIGN.md's table)."""

    identity: int = Field(5000, ge=0, le=65535)
    image: int = Field(9292, ge=0, le=65535)
    compute: int = Field(8774, ge=0, le=65535)
    network: int = Field(9696, ge=0, le=65535)
    volume: int = Field(8776, ge=0, le=65535)
    object: int = Field(8080, ge=0, le=65535)
    orchestration: int = Field(8004, ge=0, le=65535)
    telemetry: int = Field(8041, ge=0, le=65535)
    alarming: int = Field(8042, ge=0, le=65535)
    dashboard: int = Field(8000, ge=0, le=65535)
    s3: int = Field(8081, ge=0, le=65535)
    novncproxy: int = Field(6080, ge=0, le=65535)
    serialproxy: int = Field(6083, ge=0, le=65535)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONESTACK_", env_nested_delimiter="__", extra="forbid"
    )

    state_dir: Path = Field(
        default_factory=default_state_dir,
        description="Database, keys, secrets, clouds.yaml; /var/lib/onestack for root, "
        "else ~/.local/share/onestack.",
    )
    config_file: Path | None = Field(None, description="TOML file with these settings.")
    bind_host: str = Field("127.0.0.1", description="Address every API listens on.")
    public_host: str | None = Field(
        None, description="Host name written into the catalog; defaults to the bind address."
    )
    db_url: str | None = Field(
        None, description="SQLAlchemy URL; default SQLite in the state directory."
    )
    db_pool_size: int = Field(
        10, ge=1, description="Database connections a process keeps (PostgreSQL, MariaDB)."
    )
    db_max_overflow: int = Field(
        30, ge=0, description="Connections a process may open beyond `db_pool_size`."
    )
    bus_url: str = Field("memory://", description="memory:// or amqp://user:pass@host:port/")
    controller: bool = Field(
        False,
        description="Run as a controller: every API, the scheduler and the conductor, no "
        "agents (hosts join with `onestack host join`); needs a shared database and bus.",
    )
    region: str = Field("RegionOne", description="Region of every catalog endpoint.")
    admin_password: str | None = Field(
        None, description="Password of the bootstrap admin user; generated when unset."
    )
    demo_password: str | None = Field(
        None, description="Password of the bootstrap demo user; generated when unset."
    )
    policy_file: Path | None = Field(None, description="YAML overrides of policy rules.")
    max_request_body: int = Field(114688, ge=1024, description="Largest JSON body accepted.")
    log_level: str = Field("info", description="debug, info, warning or error.")
    user_clouds_yaml: Path | None = Field(
        default_factory=lambda: Path.home() / ".config" / "openstack" / "clouds.yaml",
        description="clouds.yaml to merge the onestack entries into; empty to skip.",
    )
    ports: Ports = Field(default_factory=Ports)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    compute: ComputeSettings = Field(default_factory=ComputeSettings)
    image: ImageSettings = Field(default_factory=ImageSettings)
    object: ObjectSettings = Field(default_factory=ObjectSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    volume: VolumeSettings = Field(default_factory=VolumeSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    alarming: AlarmingSettings = Field(default_factory=AlarmingSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    orchestration: OrchestrationSettings = Field(default_factory=OrchestrationSettings)

    @field_validator("user_clouds_yaml", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("state_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls, init_settings))

    # Derived values -------------------------------------------------------

    @property
    def database_url(self) -> str:
        if self.db_url:
            return normalize_db_url(self.db_url)
        return f"sqlite:///{self.state_dir / 'onestack.db'}"

    @property
    def endpoint_host(self) -> str:
        if self.public_host:
            return self.public_host
        if self.bind_host in ("0.0.0.0", "::", ""):
            return "127.0.0.1"
        return self.bind_host

    def url(self, service: str) -> str:
        host = self.endpoint_host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{getattr(self.ports, service)}"


def normalize_db_url(url: str) -> str:
    """Pick the drivers onestack ships with for bare ``postgresql://``/``mysql://`` URLs."""
    for bare, full in (
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("mysql://", "mysql+pymysql://"),
        ("mariadb://", "mysql+pymysql://"),
    ):
        if url.startswith(bare):
            return full + url[len(bare) :]
    return url


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by the flags, the environment or the state dir."""

    def __init__(self, settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self._init = init

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        given = self._init()
        path = given.get("config_file") or os.environ.get("ONESTACK_CONFIG")
        if not path:
            state_dir = given.get("state_dir") or os.environ.get("ONESTACK_STATE_DIR")
            candidate = Path(state_dir or default_state_dir()).expanduser() / "onestack.toml"
            if not candidate.is_file():
                return {}
            path = candidate
        with open(path, "rb") as handle:
            return tomllib.load(handle)


def load_settings(**flags: Any) -> Settings:
    """Build the settings from flags (``None`` values mean "not given")."""
    given = {key: value for key, value in flags.items() if value is not None}
    return Settings(**given)
