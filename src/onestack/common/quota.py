"""Per-project quotas: limits, usage and checks, for every service.

A service declares its resources once, with a default limit and a function
that counts the project's usage from the service's own tables.  Usage is
counted, not tracked, so nothing can drift or leak: ``check()`` runs inside
the same write transaction that creates the resource, after locking the
project's row (SQLite serialises writers anyway), so two concurrent creates
cannot both squeeze under the limit.  A limit of ``-1`` means unlimited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.exceptions import BadRequest, OverQuota
from onestack.common.models import QuotaDefault, QuotaLimit, QuotaLock

UNLIMITED = -1

UsageCounter = Callable[[Session, str], int]


@dataclass(frozen=True)
class QuotaResource:
    name: str
    default: int
    count: UsageCounter


@dataclass(frozen=True)
class QuotaUsage:
    limit: int
    in_use: int
    reserved: int = 0


class QuotaEngine:
    def __init__(
        self, service: str, resources: list[QuotaResource], exceeded: type[OverQuota] = OverQuota
    ) -> None:
        self.service = service
        self.resources = {r.name: r for r in resources}
        self._exceeded = exceeded

    def _known(self, names: Mapping[str, object]) -> None:
        unknown = sorted(set(names) - set(self.resources))
        if unknown:
            raise BadRequest(f"Unknown quota resources {', '.join(unknown)}.")

    def defaults(self, session: Session) -> dict[str, int]:
        values = {name: r.default for name, r in self.resources.items()}
        rows = session.scalars(select(QuotaDefault).where(QuotaDefault.service == self.service))
        for row in rows:
            if row.resource in values:
                values[row.resource] = row.hard_limit
        return values

    def limits(self, session: Session, project_id: str) -> dict[str, int]:
        values = self.defaults(session)
        rows = session.scalars(
            select(QuotaLimit).where(
                QuotaLimit.service == self.service, QuotaLimit.project_id == project_id
            )
        )
        for row in rows:
            if row.resource in values:
                values[row.resource] = row.hard_limit
        return values

    def projects(self, session: Session) -> list[str]:
        """The projects with limits of their own for this service, sorted."""
        rows = session.scalars(
            select(QuotaLimit.project_id).where(QuotaLimit.service == self.service).distinct()
        )
        return sorted(rows)

    def usage(self, session: Session, project_id: str) -> dict[str, QuotaUsage]:
        limits = self.limits(session, project_id)
        return {
            name: QuotaUsage(limit=limits[name], in_use=r.count(session, project_id))
            for name, r in self.resources.items()
        }

    def set_limits(self, session: Session, project_id: str, limits: Mapping[str, int]) -> None:
        self._known(limits)
        for name, value in limits.items():
            _validate_limit(name, value)
            row = session.get(QuotaLimit, (project_id, self.service, name))
            if row is None:
                session.add(
                    QuotaLimit(
                        project_id=project_id, service=self.service, resource=name, hard_limit=value
                    )
                )
            else:
                row.hard_limit = value

    def set_defaults(self, session: Session, limits: Mapping[str, int]) -> None:
        self._known(limits)
        for name, value in limits.items():
            _validate_limit(name, value)
            row = session.get(QuotaDefault, (self.service, name))
            if row is None:
                session.add(QuotaDefault(service=self.service, resource=name, hard_limit=value))
            else:
                row.hard_limit = value

    def reset(self, session: Session, project_id: str) -> None:
        """Forget a project's own limits (back to the defaults)."""
        session.execute(
            delete(QuotaLimit).where(
                QuotaLimit.service == self.service, QuotaLimit.project_id == project_id
            )
        )

    def forget(self, session: Session, resources: Sequence[str]) -> None:
        """Drop every project's limits and the defaults of resources that went away
        (a service whose resources come and go, such as per-volume-type quotas)."""
        for model in (QuotaLimit, QuotaDefault):
            session.execute(
                delete(model).where(model.service == self.service, model.resource.in_(resources))
            )

    def _lock(self, session: Session, project_id: str) -> None:
        """Hold the project's lock row until the transaction ends (made on first use; when
        another transaction makes it at the same time, theirs is the one we wait for)."""
        query = (
            select(QuotaLock)
            .where(QuotaLock.project_id == project_id, QuotaLock.service == self.service)
            .with_for_update()
        )
        if session.execute(query).scalar_one_or_none() is not None:
            return
        try:
            with session.begin_nested():
                session.add(QuotaLock(project_id=project_id, service=self.service))
        except IntegrityError:
            session.execute(query)

    def check(self, session: Session, project_id: str, deltas: Mapping[str, int]) -> None:
        """Raise the service's OverQuota if adding ``deltas`` exceeds a limit.

        Call inside the write transaction that creates the resources.
        """
        self._known(deltas)
        self._lock(session, project_id)
        limits = self.limits(session, project_id)
        for name, delta in deltas.items():
            limit = limits[name]
            if delta <= 0 or limit == UNLIMITED:
                continue
            used = self.resources[name].count(session, project_id)
            if used + delta > limit:
                raise self._exceeded(resource=name, requested=delta, used=used, limit=limit)


def _validate_limit(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < UNLIMITED:
        raise BadRequest(f"Quota limit {value!r} for {name} must be an integer >= -1.")
