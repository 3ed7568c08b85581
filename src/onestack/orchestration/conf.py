"""The orchestration service's settings (``[orchestration]`` in the TOML file)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OrchestrationSettings(BaseModel):
    max_template_size: int = Field(524288, ge=1024, description="Largest template, in bytes.")
    max_resources_per_stack: int = Field(
        1000, ge=1, description="Most resources a stack (with its nested stacks) may hold."
    )
    max_nested_stack_depth: int = Field(5, ge=1, description="Deepest nesting of stacks.")
    max_stacks_per_tenant: int = Field(100, ge=1, description="Stacks one project may own.")
    max_concurrent_resources: int = Field(
        10, ge=1, description="Resource actions of one stack that run at the same time."
    )
    stack_action_timeout: int = Field(
        3600, ge=1, description="Seconds a stack action may take when timeout_mins is unset."
    )
    poll_interval: float = Field(
        0.5, gt=0, description="Seconds between checks of a resource that is being built."
    )
    enable_stack_abandon: bool = Field(False, description="Allow abandoning stacks (Heat's).")
    enable_stack_adopt: bool = Field(False, description="Allow adopting stacks (Heat's).")
    service_user: str = Field(
        "heat", description="The trustee of every stack's trust (a user in the service project)."
    )
    signal_url_base: str = Field(
        "http://169.254.169.254/heat",
        description="Base URL instances use to reach the orchestration API (wait condition "
        "signals); the metadata server of tenant networks proxies it.",
    )
