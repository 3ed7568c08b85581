"""Host aggregates (Nova's os-aggregates) and the availability zones they make.

An aggregate is a named group of compute hosts with metadata.  Its
``availability_zone`` key puts its hosts in that zone: os-services,
os-availability-zone, server create and the scheduler all see a compute host's
*effective* zone, the zone of its aggregates, else the zone its agent was
configured with (``[compute] availability_zone``, "nova" by default), as Nova
derives a service's zone from its aggregates, else ``default_availability_zone``.

Rules kept as Nova keeps them: names are unique; a host is in at most one
zone (adding it to, or renaming the zone of, an aggregate that would give it a
second zone is refused); a host's zone never changes under its instances
(adding, removing or rezoning a host with instances is refused when its zone
would change); an empty aggregate only can be deleted; an ``availability_zone``
cannot be emptied or removed, only changed.  Every check and its change are one
write transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Conflict, NotFound
from onestack.compute.exceptions import ComputeHostNotFound
from onestack.compute.models import Aggregate, AggregateHost, ComputeService, Instance

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore

#: the metadata key that makes an aggregate an availability zone
ZONE_KEY = "availability_zone"
COMPUTE_BINARY = "nova-compute"


class AggregateNotFound(NotFound):
    msg_fmt = "Aggregate {aggregate_id} could not be found."


class AggregateNameExists(Conflict):
    msg_fmt = "Aggregate {aggregate_name} already exists."


class AggregateHostExists(Conflict):
    msg_fmt = "Aggregate {aggregate_id} already has host {host}."


class AggregateHostNotFound(NotFound):
    """Nova answers every failed remove_host lookup with this one message."""

    msg_fmt = "Cannot remove host {host} in aggregate {aggregate_id}"


class InvalidAggregateActionAdd(Conflict):
    msg_fmt = "Cannot add host to aggregate {aggregate_id}. Reason: {reason}."


class InvalidAggregateActionDelete(BadRequest):
    msg_fmt = "Cannot remove host from aggregate {aggregate_id}. Reason: {reason}."


class InvalidAggregateActionRemove(Conflict):
    """Nova's InvalidAggregateActionDelete as remove_host answers it (409)."""

    msg_fmt = "Cannot remove host from aggregate {aggregate_id}. Reason: {reason}."


class InvalidAggregateActionUpdate(BadRequest):
    msg_fmt = "Cannot update aggregate {aggregate_id}. Reason: {reason}."


class InvalidAggregateActionUpdateMeta(BadRequest):
    msg_fmt = "Cannot update metadata of aggregate {aggregate_id}. Reason: {reason}."


@dataclass(frozen=True)
class AggregateRecord:
    """An aggregate as the API shows it."""

    id: int
    uuid: str
    name: str
    metadata: dict[str, str]
    hosts: list[str]
    created_at: datetime
    updated_at: datetime | None

    @property
    def availability_zone(self) -> str | None:
        return self.metadata.get(ZONE_KEY)


# -- zones (used by hosts, servers and the scheduler) ---------------------------


def host_zones(session: Session, hosts: Iterable[str] | None = None) -> dict[str, str]:
    """The zone aggregates give each host (``{host: zone}``; hosts in no zoned
    aggregate are absent).  Nova joins several names with ``,``; onestack never
    lets a host have two."""
    stmt = select(AggregateHost.host, Aggregate.properties).join(
        Aggregate, Aggregate.id == AggregateHost.aggregate_id
    )
    if hosts is not None:
        stmt = stmt.where(AggregateHost.host.in_(sorted(set(hosts))))
    found: dict[str, set[str]] = defaultdict(set)
    for host, metadata in session.execute(stmt):
        zone = (metadata or {}).get(ZONE_KEY)
        if zone:
            found[host].add(zone)
    return {host: ",".join(sorted(zones)) for host, zones in found.items()}


def service_zone(service: ComputeService, zones: dict[str, str]) -> str:
    """A service's effective zone: a compute host's aggregates' zone, else its own."""
    if service.binary != COMPUTE_BINARY:
        return service.zone
    return zones.get(service.host, service.zone)


def available_zones(session: Session) -> set[str]:
    """The zones of enabled compute services (those a server may ask for)."""
    services = list(
        session.scalars(
            select(ComputeService).where(
                ComputeService.binary == COMPUTE_BINARY, ~ComputeService.disabled
            )
        )
    )
    zones = host_zones(session, [s.host for s in services])
    return {service_zone(s, zones) for s in services}


# -- the API's operations -------------------------------------------------------


def parse_id(given: str) -> int:
    """The aggregate id of a URL: an integer (Nova's validate_integer), else a 400."""
    try:
        return int(given)
    except ValueError:
        raise BadRequest("Invalid input received: id must be an integer.") from None


class AggregateManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db

    def authorize(self, ctx: RequestContext, action: str) -> None:
        """``os_compute_api:os-aggregates:<action>`` (the routes check it before the body)."""
        self.core.enforcer.enforce(ctx, f"os_compute_api:os-aggregates:{action}", {})

    def _get(self, session: Session, aggregate_id: int) -> Aggregate:
        row = session.get(Aggregate, aggregate_id)
        if row is None:
            raise AggregateNotFound(aggregate_id=aggregate_id)
        return row

    @staticmethod
    def _hosts(session: Session, aggregate_id: int) -> list[str]:
        return list(
            session.scalars(
                select(AggregateHost.host)
                .where(AggregateHost.aggregate_id == aggregate_id)
                .order_by(AggregateHost.id)
            )
        )

    def _record(self, session: Session, row: Aggregate) -> AggregateRecord:
        return AggregateRecord(
            id=row.id,
            uuid=row.uuid,
            name=row.name,
            metadata=dict(row.properties or {}),
            hosts=self._hosts(session, row.id),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _name_free(self, session: Session, name: str, aggregate_id: int | None) -> None:
        other = session.scalars(select(Aggregate).where(Aggregate.name == name)).first()
        if other is not None and other.id != aggregate_id:
            raise AggregateNameExists(aggregate_name=name)

    def _zone_change_allowed(
        self,
        session: Session,
        row: Aggregate,
        metadata: dict[str, Any],
        hosts: list[str],
        error: type[BadRequest] | type[Conflict],
        check_instances: bool,
    ) -> None:
        """Nova's is_safe_to_update_az: a zone named, not in conflict with the other
        zones of ``hosts``, and (if asked) moving no instance to another zone."""
        if ZONE_KEY not in metadata:
            return
        wanted = metadata[ZONE_KEY]
        if not wanted:
            reason = f"Aggregate {row.name} does not support empty named availability zone"
            raise error(aggregate_id=row.id, reason=reason)
        if not hosts:
            return
        others = session.execute(
            select(Aggregate.id, Aggregate.properties)
            .join(AggregateHost, AggregateHost.aggregate_id == Aggregate.id)
            .where(AggregateHost.host.in_(hosts), Aggregate.id != row.id)
        )
        conflicting = sorted(
            {
                (props or {})[ZONE_KEY]
                for _, props in others
                if (props or {}).get(ZONE_KEY) and props[ZONE_KEY] != wanted
            }
        )
        if conflicting:
            reason = f"One or more hosts already in availability zone(s) {conflicting}"
            raise error(aggregate_id=row.id, reason=reason)
        current = (row.properties or {}).get(ZONE_KEY)
        if check_instances and current != wanted and self._instances_on(session, hosts):
            reason = "One or more hosts contain instances in this zone"
            raise error(aggregate_id=row.id, reason=reason)

    @staticmethod
    def _instances_on(session: Session, hosts: list[str]) -> int:
        return int(
            session.scalar(select(func.count()).where(Instance.host.in_(hosts), ~Instance.deleted))
            or 0
        )

    def _zone_of(self, session: Session, host: str, without: int | None = None) -> str | None:
        """The zone the host's aggregates (but ``without``) give it, or None."""
        stmt = (
            select(Aggregate.id, Aggregate.properties)
            .join(AggregateHost, AggregateHost.aggregate_id == Aggregate.id)
            .where(AggregateHost.host == host)
        )
        zones = sorted(
            {
                (props or {})[ZONE_KEY]
                for agg_id, props in session.execute(stmt)
                if agg_id != without and (props or {}).get(ZONE_KEY)
            }
        )
        return zones[0] if zones else None

    def _moving_instances(
        self, session: Session, host: str, old: str | None, new: str | None
    ) -> str | None:
        """Why a host with instances may not change zone (None when it may)."""
        count = self._instances_on(session, [host])
        if not count or old == new:
            return None
        return (
            f"The host cannot be {{}} the aggregate as the availability zone of the host "
            f"would change from '{old}' to '{new}' but the host already has {count} "
            f"instance(s). Changing the AZ of an existing instance is not supported by "
            f"this action. Move the instances away from this host then try again. If you "
            f"need to move the instances between AZs then you can use shelve_offload and "
            f"unshelve to achieve this."
        )

    # -- operations --------------------------------------------------------------

    def index(self, ctx: RequestContext) -> list[AggregateRecord]:
        self.authorize(ctx, "index")
        with self.db.reader() as session:
            rows = session.scalars(select(Aggregate).order_by(Aggregate.id))
            return [self._record(session, row) for row in rows]

    def show(self, ctx: RequestContext, aggregate_id: int) -> AggregateRecord:
        self.authorize(ctx, "show")
        with self.db.reader() as session:
            return self._record(session, self._get(session, aggregate_id))

    def create(self, ctx: RequestContext, name: str, zone: str | None) -> AggregateRecord:
        self.authorize(ctx, "create")
        name = name.strip()
        zone = zone.strip() if zone else zone
        with self.db.writer() as session:
            self._name_free(session, name, None)
            row = Aggregate(
                uuid=str(uuid.uuid4()),
                name=name,
                properties={ZONE_KEY: zone} if zone else {},
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            return self._record(session, row)

    def update(
        self, ctx: RequestContext, aggregate_id: int, changes: dict[str, Any]
    ) -> AggregateRecord:
        """``changes``: ``name`` and/or ``availability_zone`` (the keys given)."""
        self.authorize(ctx, "update")
        with self.db.writer() as session:
            row = self._get(session, aggregate_id)
            metadata = {k: v for k, v in changes.items() if k == ZONE_KEY}
            hosts = self._hosts(session, row.id)
            self._zone_change_allowed(
                session, row, metadata, hosts, InvalidAggregateActionUpdate, True
            )
            if "name" in changes:
                name = changes["name"].strip()
                self._name_free(session, name, row.id)
                row.name = name
            if metadata:
                row.properties = {**(row.properties or {}), **metadata}
            row.updated_at = utcnow()
            return self._record(session, row)

    def set_metadata(
        self, ctx: RequestContext, aggregate_id: int, metadata: dict[str, str | None]
    ) -> AggregateRecord:
        """Set the keys given; a null value removes its key."""
        self.authorize(ctx, "set_metadata")
        with self.db.writer() as session:
            row = self._get(session, aggregate_id)
            hosts = self._hosts(session, row.id)
            self._zone_change_allowed(
                session, row, metadata, hosts, InvalidAggregateActionUpdateMeta, True
            )
            updated = dict(row.properties or {})
            for key, value in metadata.items():
                if value is None:
                    updated.pop(key, None)
                else:
                    updated[key] = value
            row.properties = updated
            row.updated_at = utcnow()
            return self._record(session, row)

    def delete(self, ctx: RequestContext, aggregate_id: int) -> None:
        self.authorize(ctx, "delete")
        with self.db.writer() as session:
            row = self._get(session, aggregate_id)
            if self._hosts(session, row.id):
                raise InvalidAggregateActionDelete(
                    aggregate_id=aggregate_id, reason="Host aggregate is not empty"
                )
            session.delete(row)

    def _compute_host(self, session: Session, host: str) -> bool:
        return (
            session.scalars(
                select(ComputeService.id).where(
                    ComputeService.host == host, ComputeService.binary == COMPUTE_BINARY
                )
            ).first()
            is not None
        )

    def add_host(self, ctx: RequestContext, aggregate_id: int, host: str) -> AggregateRecord:
        self.authorize(ctx, "add_host")
        with self.db.writer() as session:
            if not self._compute_host(session, host):
                raise ComputeHostNotFound(host=host)
            row = self._get(session, aggregate_id)
            metadata = dict(row.properties or {})
            self._zone_change_allowed(
                session, row, metadata, [host], InvalidAggregateActionAdd, False
            )
            new_zone = metadata.get(ZONE_KEY)
            if new_zone:
                why = self._moving_instances(
                    session, host, self._zone_of(session, host, without=row.id), new_zone
                )
                if why:
                    raise InvalidAggregateActionAdd(
                        aggregate_id=row.id, reason=why.format("added to")
                    )
            if host in self._hosts(session, row.id):
                raise AggregateHostExists(aggregate_id=row.id, host=host)
            session.add(AggregateHost(aggregate_id=row.id, host=host, created_at=utcnow()))
            session.flush()
            return self._record(session, row)

    def remove_host(self, ctx: RequestContext, aggregate_id: int, host: str) -> AggregateRecord:
        self.authorize(ctx, "remove_host")
        with self.db.writer() as session:
            row = session.get(Aggregate, aggregate_id)
            if row is None or not self._compute_host(session, host):
                raise AggregateHostNotFound(aggregate_id=aggregate_id, host=host)
            member = session.scalars(
                select(AggregateHost).where(
                    AggregateHost.aggregate_id == row.id, AggregateHost.host == host
                )
            ).first()
            if member is None:
                raise AggregateHostNotFound(aggregate_id=aggregate_id, host=host)
            zone = (row.properties or {}).get(ZONE_KEY)
            if zone:
                why = self._moving_instances(
                    session, host, zone, self._zone_of(session, host, without=row.id)
                )
                if why:
                    raise InvalidAggregateActionRemove(
                        aggregate_id=row.id, reason=why.format("removed from")
                    )
            session.delete(member)
            session.flush()
            return self._record(session, row)

    def check_images(self, ctx: RequestContext, aggregate_id: int, image_ids: list[str]) -> None:
        """The checks of Nova's image pre-caching request (2.81): onestack's drivers
        do not pre-cache images, so, as Nova with such a driver, nothing more is done."""
        self.core.enforcer.enforce(ctx, "compute:aggregates:images", {})
        if len(set(image_ids)) != len(image_ids):
            raise BadRequest("Duplicate images in request")
        with self.db.reader() as session:
            self._get(session, aggregate_id)
