"""Console tickets: a one-time, short-lived, per-session handle on a console URL.

The browser never sees the console proxy's token.  The dashboard asks Nova for
a remote console with the user's token, keeps the URL Nova returned under a
random ticket bound to the session, and relays one websocket for it: a ticket
works once, only for the session that asked, only before it expires.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit


@dataclass(frozen=True)
class Ticket:
    session: str
    url: str
    protocol: str
    expires: float


class ConsoleTickets:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._tickets: dict[str, Ticket] = {}

    def issue(self, session: str, url: str, protocol: str) -> str:
        self._expire()
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = Ticket(session, url, protocol, time.monotonic() + self.ttl)
        return ticket

    def redeem(self, ticket: str, session: str) -> Ticket | None:
        """The ticket's console if it is this session's and still fresh; it is spent."""
        self._expire()
        found = self._tickets.get(ticket)
        if found is None or not secrets.compare_digest(found.session, session):
            return None
        del self._tickets[ticket]
        return found

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, t in self._tickets.items() if t.expires < now]:
            del self._tickets[key]


def websocket_url(console_url: str) -> str:
    """The websocket a console URL from Nova stands for.

    Serial consoles are websocket URLs already (``ws://host:6083/?token=T``);
    noVNC consoles are pages (``http://host:6080/vnc_lite.html?path=%3Ftoken%3DT``)
    whose ``path`` (or ``token``) parameter names the websocket.
    """
    parts = urlsplit(console_url)
    if parts.scheme in ("ws", "wss"):
        return console_url
    scheme = "wss" if parts.scheme == "https" else "ws"
    query = parse_qs(parts.query)
    if "path" in query:
        path = query["path"][0]
        path_parts = urlsplit(path if path.startswith("/") else "/" + path)
        return urlunsplit((scheme, parts.netloc, path_parts.path, path_parts.query, ""))
    if "token" in query:
        token = query["token"][0]
        return urlunsplit((scheme, parts.netloc, "/websockify", f"token={token}", ""))
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
