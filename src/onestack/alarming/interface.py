"""What other services may use of the alarming service (its public Python interface).

The orchestration engine's ``OS::Aodh::*`` resources use the Alarming API over
HTTP (with the stack's trust), as Heat does; in-process callers may use these.
"""

from __future__ import annotations

from typing import Any, Protocol

from onestack.common.context import RequestContext


class AlarmService(Protocol):
    def create_alarm(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        """Create an alarm as ``POST /v2/alarms`` does (the alarm's view)."""
        ...

    def get_alarm(self, ctx: RequestContext, alarm_id: str) -> dict[str, Any]:
        """The alarm if ``ctx`` may see it; AlarmNotFound otherwise."""
        ...

    def delete_alarm(self, ctx: RequestContext, alarm_id: str) -> None:
        """Delete the alarm (and the trust its actions own)."""
        ...
