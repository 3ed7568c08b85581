"""The telemetry service's settings (``[telemetry]`` / ``ONESTACK_TELEMETRY__*``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TelemetrySettings(BaseModel):
    poll_interval: float = Field(
        300,
        ge=0,
        description="Seconds between two polls of the metering poller on each compute host "
        "(Ceilometer's default 300); 0 disables polling.",
    )
    poll_services: bool = Field(
        True,
        description="Also poll the services' meters (volume.size, image.size, ip.floating, "
        "storage.objects*) on the controller.",
    )
    archive_policy: str = Field(
        "ceilometer-low",
        description="Archive policy of the gauge meters the poller creates "
        "(Ceilometer's archive_policy_default).",
    )
    archive_policy_rate: str = Field(
        "ceilometer-low-rate",
        description="Archive policy of the cumulative meters (cpu, network and disk bytes).",
    )
    default_aggregation_methods: list[str] = Field(
        default_factory=lambda: ["mean", "min", "max", "sum", "std", "count"],
        description="Aggregation methods of archive policies created without any.",
    )
    max_limit: int = Field(
        1000, ge=1, description="Largest page of a listing (Gnocchi's max_limit)."
    )
    service_user: str = Field("ceilometer", description="User the poller authenticates as.")
    service_password: str | None = Field(
        None,
        description="Its password; generated into the state directory's secrets when unset.",
    )
    service_project: str = Field("service", description="Project of the poller's user.")
    auth_url: str | None = Field(
        None, description="Identity endpoint of a poller on another host; default: this cloud's."
    )
    host: str | None = Field(
        None, description="Name of this compute host; default: the compute host."
    )
