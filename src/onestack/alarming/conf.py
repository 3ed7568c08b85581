"""The alarming service's settings (``[alarming]`` / ``ONESTACK_ALARMING__*``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AlarmingSettings(BaseModel):
    evaluation_interval: float = Field(
        60,
        ge=0,
        description="Seconds between two evaluations of the alarms (Aodh's default 60); "
        "0 disables the evaluator.",
    )
    additional_ingestion_lag: int = Field(
        0, ge=0, le=86400, description="Seconds added to every evaluation window."
    )
    record_history: bool = Field(True, description="Record alarm changes (history).")
    user_alarm_quota: int = Field(-1, description="Alarms a user may define (-1: no limit).")
    project_alarm_quota: int = Field(-1, description="Alarms a project may define (-1: no limit).")
    alarm_max_actions: int = Field(
        -1, description="Actions per state of an alarm (non-positive: no limit)."
    )
    rest_notifier_timeout: float = Field(
        10, gt=0, description="Seconds an http(s) action may take."
    )
    rest_notifier_max_retries: int = Field(0, ge=0, description="Retries of an http(s) action.")
    gnocchi_external_project_owner: str = Field(
        "service",
        description="Project of the metering poller: resources it created for a project "
        "count as the project's in gnocchi_aggregation_by_resources_threshold alarms.",
    )
    service_user: str = Field("aodh", description="User the evaluator and notifiers act as.")
    service_password: str | None = Field(
        None, description="Its password; the one made at bootstrap when unset."
    )
    auth_url: str | None = Field(
        None,
        description="Identity endpoint of an evaluator on another host; default: this cloud's.",
    )
