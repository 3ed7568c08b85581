"""Remote consoles: tokens for a server's serial port or VNC display (Nova's consoleauth).

``ConsoleManager.create`` answers ``POST /servers/{id}/remote-consoles`` and the
legacy ``os-getVNCConsole``/``os-getSerialConsole`` actions: it checks the
caller may act on the server (project scope and policy), that the server runs
on a host whose driver has the console, and returns the proxy's URL with a
fresh token.  A token is random (32 bytes), stored only as its SHA-256, bound
to one server and one console type, and valid ``TOKEN_TTL`` seconds.  The
console proxies (``onestack.compute.consoleproxy``) take the token from the
URL and ask ``connect`` for the server's console socket: a token of another
server, another console type, an expired one or a deleted server is refused.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import secrets
import urllib.parse
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Conflict, NotFound
from onestack.compute import states
from onestack.compute.core import ComputeCore
from onestack.compute.exceptions import ConsoleTypeUnavailable
from onestack.compute.models import ConsoleAuthToken, Instance

#: seconds a console token stays valid (Nova's [consoleauth] token_ttl)
TOKEN_TTL = 600
#: Nova's (protocol, type) pairs onestack serves, and the socket each one reaches
SUPPORTED = {("vnc", "novnc"): "vnc", ("serial", "serial"): "serial"}
KNOWN_TYPES = {
    "vnc": ("novnc", "xvpvnc"),
    "spice": ("spice-html5", "spice-direct"),
    "rdp": ("rdp-html5",),
    "serial": ("serial",),
    "mks": ("webmks",),
}


@dataclass(frozen=True)
class ConsoleTarget:
    instance_id: str
    host: str
    console_type: str
    socket: str  # the console's Unix socket on ``host``


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db
        #: the proxies' URLs (set by the service from the settings' ports), e.g.
        #: http://127.0.0.1:6080/vnc_lite.html and ws://127.0.0.1:6083/
        self.novnc_base = "http://127.0.0.1:6080/vnc_lite.html"
        self.serial_base = "ws://127.0.0.1:6083/"

    def create(self, ctx: RequestContext, server_id: str, protocol: str, console_type: str) -> str:
        """A console URL with a new token for ``server_id``; Nova's errors otherwise."""
        if console_type not in KNOWN_TYPES.get(protocol, ()):
            raise BadRequest(
                f"Invalid input: unsupported console type {console_type} for protocol {protocol}"
            )
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "os-remote-consoles", instance.project_id)
            kind = SUPPORTED.get((protocol, console_type))
            if kind is None:
                raise ConsoleTypeUnavailable(console_type=console_type)
            if instance.vm_state != states.ACTIVE or instance.host is None:
                raise Conflict(f"Instance {server_id} is not ready yet.")
            self.core.require(session, instance, "remote_consoles", "Remote consoles")
        # the server must run on its host for its console socket to exist
        self.core.call(self.core.rpc.agents.console_socket(instance.host, instance.id, kind))
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.db.writer() as session:
            session.execute(delete(ConsoleAuthToken).where(ConsoleAuthToken.expires < now))
            session.add(
                ConsoleAuthToken(
                    id=str(uuid.uuid4()),
                    token_hash=_hash(token),
                    console_type=console_type,
                    instance_uuid=instance.id,
                    project_id=instance.project_id,
                    host=instance.host,
                    created_at=now,
                    expires=now + datetime.timedelta(seconds=TOKEN_TTL),
                )
            )
        if kind == "vnc":
            path = urllib.parse.quote(f"?token={token}", safe="")
            return f"{self.novnc_base}?path={path}"
        return f"{self.serial_base}?token={token}"

    async def connect(self, token: str, console_type: str) -> ConsoleTarget:
        """The console a valid token opens (NotFound for any token that is not valid)."""
        now = utcnow()
        refused = NotFound("The token has expired or is invalid.")

        def lookup() -> tuple[str, str]:
            with self.db.reader() as session:
                row = session.scalars(
                    select(ConsoleAuthToken).where(ConsoleAuthToken.token_hash == _hash(token))
                ).first()
                if row is None or row.expires < now or row.console_type != console_type:
                    raise refused
                instance = session.get(Instance, row.instance_uuid)
                if instance is None or instance.deleted or instance.host != row.host:
                    raise refused
                return row.host, row.instance_uuid

        host, instance_id = await asyncio.to_thread(lookup)
        kind = "vnc" if console_type == "novnc" else "serial"
        socket = await self.core.rpc.agents.console_socket(host, instance_id, kind)
        return ConsoleTarget(instance_id, host, console_type, str(socket))
