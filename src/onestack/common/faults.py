"""Injected faults: how a cloud pretends to fail, for tests of error handling.

A fault lives in the cloud's own database (table ``injected_faults``), so it acts on
that cloud only, on every controller of it, and survives a restart until it expires.
Kinds (:class:`FaultKind`):

``api``            an API request of ``service`` whose method and path match (and whose
                   token's project, if given) answers ``status`` with the service's own
                   error body (the pipeline's ``Faults`` step raises it, ``ErrorRenderer``
                   renders it), or only waits ``delay`` seconds first when ``status`` is 0
``build``          compute: the scheduler finds no host for the server, which ends in
                   ERROR with Nova's fault "No valid host was found. ..."
``volume_create``  volume: the scheduler finds no backend; the volume ends in ``error``
``backup_create``  volume: the backup ends in ``error``
``image_upload``   image: the upload fails; the image ends in ``killed``
``agent_down``     compute, network or volume: the agent on ``host`` (or every host) is
                   reported down (os-services, network agents, volume services), and
                   the schedulers skip it as they skip a silent agent

A fault answers the next ``count`` matches (None: all of them), each with
``probability``; it ends when used up or at ``expires_at``.  A failure it causes takes
the service's own failure path, so nothing half-made and no quota stays behind.
"""

from __future__ import annotations

import enum
import random
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from onestack.common.db import Database, utcnow
from onestack.common.exceptions import BadRequest, NotFound, OneStackError
from onestack.common.models import InjectedFault


class FaultKind(enum.StrEnum):
    API = "api"
    BUILD = "build"
    VOLUME_CREATE = "volume_create"
    BACKUP_CREATE = "backup_create"
    IMAGE_UPLOAD = "image_upload"
    AGENT_DOWN = "agent_down"


#: the service each asynchronous kind belongs to
KIND_SERVICE = {
    FaultKind.BUILD: "compute",
    FaultKind.VOLUME_CREATE: "volume",
    FaultKind.BACKUP_CREATE: "volume",
    FaultKind.IMAGE_UPLOAD: "image",
}
#: services whose agents can be reported down
AGENT_SERVICES = ("compute", "network", "volume")
#: services whose API requests can be faulted (settings' port names)
API_SERVICES = (
    "identity", "image", "compute", "network", "volume", "object", "s3",
    "orchestration", "telemetry", "alarming",
)  # fmt: skip
#: what each asynchronous kind says when the fault gives no message (the real services'
#: own words)
DEFAULT_REASONS = {
    FaultKind.BUILD: "There are not enough hosts available.",
    FaultKind.VOLUME_CREATE: "No valid backend was found. No weighed backends available",
    FaultKind.BACKUP_CREATE: "Backup failed: the backup service reported an error.",
    FaultKind.IMAGE_UPLOAD: "Error in store configuration. Adding images to store is disabled.",
}
#: webob's explanations (what Nova, Cinder and Glance say for a bare status)
_EXPLANATIONS = {
    500: "The server has either erred or is incapable of performing the requested operation.",
    502: "Bad gateway.",
    503: "The server is currently unavailable. Please try again at a later time.",
    504: "The gateway has timed out.",
    429: "This request was rate-limited.",
    409: "There was a conflict when trying to complete your request.",
    404: "The resource could not be found.",
    403: "Access was denied to this resource.",
    400: "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect.",
}
#: Neutron's error type for a bare status (neutron-lib's exception names)
_NEUTRON_TYPES = {
    400: "BadRequest",
    403: "PolicyNotAuthorized",
    404: "NotFound",
    409: "Conflict",
    429: "OverQuota",
    500: "HTTPInternalServerError",
    503: "ServiceUnavailable",
}
#: how long a process trusts "no fault is active" before asking the database again
#: (another controller's ``fault add`` shows within this time; this one's at once)
CACHE_SECONDS = 1.0


class FaultNotFound(NotFound):
    msg_fmt = "Could not find fault: {fault_id}."


class InjectedError(OneStackError):
    """An API fault's error; its status is set per instance (see :func:`injected_error`)."""


def injected_error(status: int, message: str, error_type: str | None = None) -> OneStackError:
    """The error an ``api`` fault raises: ``status`` in the service's own format."""
    phrase = HTTPStatus(status).phrase
    cls = type(
        "InjectedError",
        (InjectedError,),
        {
            "code": status,
            "title": phrase,
            "error_type": error_type or _NEUTRON_TYPES.get(status, phrase.replace(" ", "")),
        },
    )
    return cls(message or _EXPLANATIONS.get(status, HTTPStatus(status).description))


@dataclass(frozen=True)
class Fault:
    id: str
    kind: str
    service: str
    method: str
    path: str
    project_id: str | None
    host: str | None
    status: int
    message: str
    delay: float
    remaining: int | None
    probability: float
    hits: int
    created_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, row: InjectedFault) -> Fault:
        return cls(
            id=row.id, kind=row.kind, service=row.service, method=row.method, path=row.path,
            project_id=row.project_id, host=row.host, status=row.status, message=row.message,
            delay=row.delay, remaining=row.remaining, probability=row.probability,
            hits=row.hits, created_at=row.created_at, expires_at=row.expires_at,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None

        return {
            "id": self.id, "kind": self.kind, "service": self.service, "method": self.method,
            "path": self.path, "project_id": self.project_id, "host": self.host,
            "status": self.status, "message": self.message, "delay": self.delay,
            "count": self.remaining, "probability": self.probability, "hits": self.hits,
            "created_at": when(self.created_at), "expires_at": when(self.expires_at),
        }  # fmt: skip

    def reason(self) -> str:
        """What an asynchronous fault says: its message, else the real service's words."""
        return self.message or DEFAULT_REASONS.get(FaultKind(self.kind), "")


@dataclass(frozen=True)
class FaultSpec:
    """What ``onestack fault add`` / ``POST /onestack/v1/faults`` asks for."""

    kind: FaultKind
    service: str
    method: str = "*"
    path: str = ""
    project_id: str | None = None
    host: str | None = None
    status: int = 500
    message: str = ""
    delay: float = 0.0
    count: int | None = None
    probability: float = 1.0
    ttl: float | None = None

    @classmethod
    def parse(cls, body: Any) -> FaultSpec:
        """A spec from a JSON body (``{"fault": {...}}`` or the inner object); BadRequest
        naming what is wrong."""
        if isinstance(body, dict) and isinstance(body.get("fault"), dict):
            body = body["fault"]
        if not isinstance(body, dict):
            raise BadRequest("Expecting to find fault in request body.")
        known = {
            "kind", "service", "method", "path", "project_id", "host", "status", "message",
            "delay", "count", "probability", "ttl",
        }  # fmt: skip
        unknown = sorted(set(body) - known)
        if unknown:
            raise BadRequest(f"Unknown fault attribute(s): {', '.join(unknown)}.")
        try:
            kind = FaultKind(body.get("kind", "api"))
        except ValueError:
            raise BadRequest(
                f"Invalid fault kind {body.get('kind')!r}: one of "
                f"{', '.join(k.value for k in FaultKind)}."
            ) from None
        service = body.get("service") or KIND_SERVICE.get(kind)
        allowed = {
            FaultKind.API: API_SERVICES,
            FaultKind.AGENT_DOWN: AGENT_SERVICES,
        }.get(kind, (KIND_SERVICE.get(kind),))
        if service not in allowed:
            raise BadRequest(
                f"Invalid service {service!r} for a {kind.value} fault: one of "
                f"{', '.join(str(s) for s in allowed)}."
            )

        def number(name: str, kind_: type, low: float, high: float | None) -> Any:
            value = body.get(name)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BadRequest(f"Invalid {name} {value!r}: a number is required.")
            if kind_ is int and value != int(value):
                raise BadRequest(f"Invalid {name} {value!r}: an integer is required.")
            if value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f"at least {low}"
                raise BadRequest(f"Invalid {name} {value!r}: it must be {bound}.")
            return kind_(value)

        status = number("status", int, 0, 599)
        delay = number("delay", float, 0, 300) or 0.0
        if status is None:
            status = 0 if (kind is FaultKind.API and delay) else 500
        if kind is FaultKind.API and status and status < 400:
            raise BadRequest(f"Invalid status {status}: an error status (400-599) is required.")
        if kind is FaultKind.API and not status and not delay:
            raise BadRequest("An api fault needs an error status or a delay.")
        path = str(body.get("path") or "")
        try:
            re.compile(path)
        except re.error as exc:
            raise BadRequest(f"Invalid path pattern {path!r}: {exc}.") from None
        method = str(body.get("method") or "*").upper()
        if not re.fullmatch(r"\*|[A-Z]{3,7}", method):
            raise BadRequest(f"Invalid method {method!r}.")
        probability = number("probability", float, 0, 1)
        return cls(
            kind=kind, service=str(service), method=method, path=path,
            project_id=body.get("project_id") or None, host=body.get("host") or None,
            status=status, message=str(body.get("message") or "")[:1024], delay=delay,
            count=number("count", int, 1, None),
            probability=1.0 if probability is None else probability,
            ttl=number("ttl", float, 1, None),
        )  # fmt: skip


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


class FaultStore:
    """The faults of one cloud (its database); see the module docstring."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._checked = 0.0
        #: the services with api faults in force at the last look
        self._active: set[str] = set()

    def _fresh(self) -> None:
        self._checked = 0.0

    @staticmethod
    def _live(now: datetime) -> Any:
        return or_(InjectedFault.expires_at.is_(None), InjectedFault.expires_at > now)

    def add(self, spec: FaultSpec) -> Fault:
        now = utcnow()
        row = InjectedFault(
            id=str(uuid.uuid4()), kind=spec.kind.value, service=spec.service,
            method=spec.method, path=spec.path, project_id=spec.project_id, host=spec.host,
            status=spec.status, message=spec.message, delay=spec.delay,
            remaining=spec.count, probability=spec.probability, hits=0, created_at=now,
            expires_at=now + timedelta(seconds=spec.ttl) if spec.ttl else None,
        )  # fmt: skip
        with self.db.writer() as session:
            session.add(row)
            session.flush()
            fault = Fault.of(row)
        self._fresh()
        return fault

    def list_faults(self) -> list[Fault]:
        """The faults still in force (expired and used-up ones are removed)."""
        now = utcnow()
        with self.db.writer() as session:
            session.execute(
                delete(InjectedFault).where(
                    or_(InjectedFault.expires_at <= now, InjectedFault.remaining <= 0)
                )
            )
            rows = session.scalars(select(InjectedFault).order_by(InjectedFault.created_at))
            return [Fault.of(r) for r in rows]

    def delete(self, fault_id: str) -> None:
        with self.db.writer() as session:
            result = session.execute(delete(InjectedFault).where(InjectedFault.id == fault_id))
            if _rowcount(result) == 0:
                raise FaultNotFound(fault_id=fault_id)
        self._fresh()

    def clear(self) -> int:
        """Remove every fault; how many there were."""
        with self.db.writer() as session:
            count = _rowcount(session.execute(delete(InjectedFault)))
        self._fresh()
        return count

    # -- matching --------------------------------------------------------------------

    def maybe_active(self, service: str) -> bool:
        """False when no ``api`` fault of ``service`` was in force at the last look (at
        most ``CACHE_SECONDS`` ago): the pipeline's fast path, one cheap query a
        second for every service of the process."""
        now = time.monotonic()
        if now - self._checked >= CACHE_SECONDS:
            with self.db.reader() as session:
                found = session.scalars(
                    select(InjectedFault.service)
                    .where(InjectedFault.kind == FaultKind.API.value, self._live(utcnow()))
                    .distinct()
                )
                self._active = set(found)
            self._checked = now
        return service in self._active

    def _consume(self, candidates: list[InjectedFault]) -> Fault | None:
        """The first candidate that fires (its probability), used once."""
        for row in candidates:
            if row.probability < 1.0 and random.random() >= row.probability:
                continue
            with self.db.writer() as session:
                stmt = update(InjectedFault).where(InjectedFault.id == row.id)
                if row.remaining is not None:
                    stmt = stmt.where(InjectedFault.remaining > 0).values(
                        remaining=InjectedFault.remaining - 1
                    )
                result = session.execute(stmt.values(hits=InjectedFault.hits + 1))
                if _rowcount(result) == 0:
                    continue  # used up by a concurrent request
                fired = session.get(InjectedFault, row.id)
                if fired is None:
                    continue
                return Fault.of(fired)
        return None

    def _candidates(self, kind: FaultKind, service: str, project_id: str | None) -> list[Any]:
        now = utcnow()
        with self.db.reader() as session:
            rows = list(
                session.scalars(
                    select(InjectedFault)
                    .where(
                        InjectedFault.kind == kind.value,
                        InjectedFault.service == service,
                        self._live(now),
                        or_(InjectedFault.remaining.is_(None), InjectedFault.remaining > 0),
                        or_(
                            InjectedFault.project_id.is_(None),
                            InjectedFault.project_id == (project_id or ""),
                        ),
                    )
                    .order_by(InjectedFault.created_at)
                )
            )
            session.expunge_all()
        return rows

    def match_request(
        self, service: str, method: str, path: str, project_id: str | None
    ) -> Fault | None:
        """The ``api`` fault this request meets (used once), or None."""
        rows = [
            r
            for r in self._candidates(FaultKind.API, service, project_id)
            if r.method in ("*", method) and (not r.path or re.search(r.path, path))
        ]
        return self._consume(rows) if rows else None

    def take(self, kind: FaultKind, project_id: str | None) -> Fault | None:
        """The asynchronous fault of ``kind`` that hits ``project_id``'s operation now
        (used once), or None."""
        rows = self._candidates(kind, KIND_SERVICE[kind], project_id)
        return self._consume(rows) if rows else None

    def hosts_down(self, service: str, session: Session | None = None) -> set[str] | None:
        """The hosts whose ``service`` agent is reported down; None when all are.

        ``session``: the caller's open session, when it has one (a second connection
        inside its transaction is not possible on every database)."""
        stmt = select(InjectedFault.host).where(
            InjectedFault.kind == FaultKind.AGENT_DOWN.value,
            InjectedFault.service == service,
            self._live(utcnow()),
        )
        if session is not None:
            hosts = list(session.scalars(stmt))
        else:
            with self.db.reader() as own:
                hosts = list(own.scalars(stmt))
        if any(h is None for h in hosts):
            return None
        return {h for h in hosts if h is not None}

    def agent_down(self, service: str, host: str, session: Session | None = None) -> bool:
        """Whether ``host``'s agent is reported down (``host@backend`` counts as ``host``)."""
        down = self.hosts_down(service, session)
        return down is None or host in down or host.split("@", 1)[0] in down
