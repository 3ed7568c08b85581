"""Events other services send about servers (``POST /os-server-external-events``).

Nova's semantics: each event is answered on its own (``code`` 200 and status
``completed`` when its server exists and has a host; 404 for an unknown server,
422 for one without a host, 400 for an event that needs a ``tag`` and has
none, each with status ``failed``); the answer is 207 when any event failed,
200 otherwise.  The names allowed grow with the microversion.

What an accepted event changes in onestack: nothing.  Nova uses them to
refresh its cache of a server's network info (``network-changed``), to
unblock a build waiting for its port (``network-vif-plugged``), to detach a
port deleted in Neutron (``network-vif-deleted``) or to rescan an extended
volume (``volume-extended``).  onestack reads a server's addresses and ports
from the network service at each request (nothing cached to refresh), plugs
ports itself before a build goes on (nothing waits for an event), and its
other events have no counterpart; they are acknowledged as Nova does.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.compute.models import Instance

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore

#: event names and the microversion that allows them
NAMES = {
    "network-changed": "2.1",
    "network-vif-plugged": "2.1",
    "network-vif-unplugged": "2.1",
    "network-vif-deleted": "2.1",
    "volume-extended": "2.51",
    "power-update": "2.76",
    "accelerator-request-bound": "2.82",
    "volume-reimaged": "2.93",
}
STATUSES = ("failed", "completed", "in-progress")
#: events Nova drops (400) without a tag
TAG_REQUIRED = ("volume-extended", "power-update", "accelerator-request-bound")


def _invalid(detail: str) -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute events. {detail}")


def validate(body: Any, allowed: set[str]) -> list[dict[str, Any]]:
    """The events of a request body, checked as Nova's schema does."""
    if not isinstance(body, dict) or set(body) != {"events"}:
        raise BadRequest("Invalid input: the body must hold exactly 'events'.")
    events = body["events"]
    if not isinstance(events, list) or not events:
        raise _invalid("'events' must be a non-empty list.")
    for event in events:
        if not isinstance(event, dict):
            raise _invalid(f"{event!r} is not of type 'object'")
        extra = set(event) - {"name", "server_uuid", "status", "tag"}
        if extra:
            raise _invalid(f"Additional properties are not allowed ({sorted(extra)} unexpected)")
        for key in ("name", "server_uuid"):
            if key not in event:
                raise _invalid(f"'{key}' is a required property")
        if event["name"] not in allowed:
            raise _invalid(f"{event['name']!r} is not one of {sorted(allowed)}")
        try:
            if not isinstance(event["server_uuid"], str):
                raise ValueError
            uuid.UUID(event["server_uuid"])
        except ValueError:
            raise _invalid(f"{event['server_uuid']!r} is not a 'uuid'") from None
        if "status" in event and event["status"] not in STATUSES:
            raise _invalid(f"{event['status']!r} is not one of {list(STATUSES)}")
        tag = event.get("tag")
        if "tag" in event and (not isinstance(tag, str) or len(tag) > 255):
            raise _invalid("'tag' must be a string of at most 255 characters")
    return events


class ExternalEventManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db

    def create(
        self, ctx: RequestContext, events: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], int]:
        """Each event with its ``code`` and ``status``, and the response status."""
        self.core.enforcer.enforce(ctx, "os_compute_api:os-server-external-events:create", {})
        wanted = {str(e["server_uuid"]) for e in events}
        with self.db.reader() as session:
            hosts = dict(
                session.execute(
                    select(Instance.id, Instance.host).where(
                        Instance.id.in_(sorted(wanted)), ~Instance.deleted
                    )
                ).all()
            )
        answered: list[dict[str, Any]] = []
        result = 200
        for event in events:
            out = dict(event)
            server = str(event["server_uuid"])
            if server not in hosts:
                out.update(status="failed", code=404)
            elif event["name"] in TAG_REQUIRED and event.get("tag") is None:
                out.update(status="failed", code=400)
            elif hosts[server]:
                out.update(status="completed", code=200)
            else:
                out.update(status="failed", code=422)
            if out["code"] != 200:
                result = 207
            answered.append(out)
        return answered, result
