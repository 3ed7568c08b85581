"""What other services may use of the orchestration service (its public Python interface).

Nothing in the control plane calls orchestration today; the alarm evaluator (and
anything on another host) signals scaling policies through its HTTP API
(``signal_url``).  This Protocol is what a neighbour would get.
"""

from __future__ import annotations

from typing import Protocol


class OrchestrationService(Protocol):
    def stack_count(self, project_id: str) -> int:
        """How many live stacks a project has (for quota reports)."""
        ...
