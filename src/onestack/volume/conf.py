"""The volume service's settings (``[volume]`` in the TOML file)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class VolumeSettings(BaseModel):
    """Where volumes and backups live and how the pool is made."""

    host: str | None = Field(
        None, description="This volume host's name (Cinder's host); default: the hostname."
    )
    backend: Literal["file", "fake"] = Field(
        "file",
        description="`file`: sparse files in the pool, attached as loop devices; `fake`: plain "
        "files in a directory, exported as the files themselves (no block devices, no root; "
        "for tests and API-only tiers).",
    )
    backend_name: str | None = Field(
        None, description="Backend name in `host@backend#pool`; default: `volume.backend`."
    )
    pool_filesystem: Literal["auto", "xfs", "btrfs", "directory"] = Field(
        "auto",
        description="Pool: a loop-mounted XFS (reflink) or btrfs image when running as root; "
        "`directory` keeps volumes in a plain directory with full copies. `auto` tries XFS, "
        "then btrfs, then a directory.",
    )
    pool_size_gb: int = Field(
        200, ge=1, description="Size of the sparse pool image (only written blocks use disk)."
    )
    availability_zone: str = Field("nova", description="Availability zone of this host.")
    default_volume_type: str = Field("__DEFAULT__", description="Type of volumes made without one.")
    backup_chunk_size: int = Field(
        4 * 1024 * 1024, ge=65536, description="Bytes per backup chunk (incremental unit)."
    )
    backup_driver: Literal["auto", "swift", "directory"] = Field(
        "auto",
        description="Where backups go: `swift` (the cloud's object storage, Cinder's swift "
        "backup driver), `directory` (the state directory); `auto`: swift when the object "
        "service runs in this cloud.",
    )
    backup_swift_container: str = Field(
        "volumebackups",
        min_length=1,
        description="Container of the owner's object storage account a backup goes to "
        "without --container.",
    )
    service_password: str | None = Field(
        None,
        description="Password of the volume service's user (cinder, which writes backups to "
        "object storage); unset: the one the bootstrap keeps in secrets/cinder-password.",
    )
    heartbeat_interval: float = Field(10.0, gt=0, description="Seconds between service reports.")
    service_down_time: float = Field(
        60.0, gt=0, description="A service not heard from for this long is down."
    )
    quota_volumes: int = Field(10, ge=-1, description="Default volumes per project.")
    quota_gigabytes: int = Field(1000, ge=-1, description="Default GiB of volumes and snapshots.")
    quota_snapshots: int = Field(10, ge=-1, description="Default snapshots per project.")
    quota_backups: int = Field(10, ge=-1, description="Default backups per project.")
    quota_backup_gigabytes: int = Field(1000, ge=-1, description="Default GiB of backups.")
