"""Cinder's QoS specs: named sets of keys for a consumer, associated with
volume types (administrators only).

A QoS spec has a ``consumer``: ``front-end`` (the hypervisor would apply it),
``back-end`` (the storage backend would) or ``both``.  A volume type is
associated with at most one QoS spec (``volume_types.qos_specs_id``); a spec
still associated is deleted only with ``force``, which dissociates it first.

Limits: the specs are kept, shown and associated as Cinder does, but nothing
throttles I/O by them yet: the file backend reports ``QoS_support: false``,
and attachments do not pass front-end specs to the compute service.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import is_duplicate, utcnow
from onestack.common.pagination import PageRequest, SortKey, paginate, parse_limit, parse_sort
from onestack.volume.core import VolumeCore, new_id
from onestack.volume.exceptions import (
    InvalidInput,
    InvalidQoSSpecs,
    InvalidVolumeType,
    QoSSpecsExists,
    QoSSpecsInUse,
    QoSSpecsKeyNotFound,
    QoSSpecsNotFound,
    VolumeTypeNotFound,
)
from onestack.volume.models import QosSpecs, VolumeType

CONSUMERS = ("front-end", "back-end", "both")
DEFAULT_CONSUMER = "back-end"
#: Cinder's default order of lists: newest first
DEFAULT_SORT = (SortKey("created_at", "desc"),)
SORT_COLUMNS = {
    "id": QosSpecs.id,
    "name": QosSpecs.name,
    "consumer": QosSpecs.consumer,
    "created_at": QosSpecs.created_at,
}
#: the keys Cinder's request schema accepts for specs
_KEY = re.compile(r"^[a-zA-Z0-9-_:. /]{1,255}$")


def _consumer(value: Any) -> str:
    if value not in CONSUMERS:
        raise InvalidQoSSpecs(
            reason=f"Consumer {value!r} is not valid; valid consumers: {', '.join(CONSUMERS)}."
        )
    return str(value)


def _specs(values: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidQoSSpecs(reason=f"Invalid key {key!r}.")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidQoSSpecs(reason=f"Value of {key} must be a string.")
        if len(str(value)) > 255:
            raise InvalidQoSSpecs(reason=f"Value of {key} is longer than 255 characters.")
        out[key] = str(value)
    return out


class QosSpecsManager:
    def __init__(self, core: VolumeCore) -> None:
        self.core = core

    def _enforce(self, ctx: RequestContext, action: str) -> None:
        self.core.enforce(ctx, f"volume_extension:qos_specs_manage:{action}")

    @staticmethod
    def _find(session: Session, specs_id: str) -> QosSpecs:
        row = session.get(QosSpecs, specs_id)
        if row is None:
            raise QoSSpecsNotFound(specs_id=specs_id)
        return row

    @staticmethod
    def _associated(session: Session, specs_id: str) -> list[VolumeType]:
        stmt = select(VolumeType).where(VolumeType.qos_specs_id == specs_id)
        return list(session.scalars(stmt.order_by(VolumeType.name)))

    def create(self, ctx: RequestContext, data: dict[str, Any]) -> QosSpecs:
        self._enforce(ctx, "create")
        values = dict(data)
        name = values.pop("name", None)
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 255:
            raise InvalidInput(reason="QoS specs name must be a non-empty string of at most 255.")
        consumer = _consumer(values.pop("consumer", DEFAULT_CONSUMER))
        row = QosSpecs(id=new_id(), name=name.strip(), consumer=consumer, specs=_specs(values))
        try:
            with self.core.db.writer() as session:
                if session.scalar(select(QosSpecs).where(QosSpecs.name == row.name)):
                    raise QoSSpecsExists(specs_id=row.name)
                session.add(row)
        except IntegrityError as exc:
            if is_duplicate(exc):
                raise QoSSpecsExists(specs_id=row.name) from None
            raise
        return row

    def list_specs(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> list[QosSpecs]:
        """Sorted (``sort``, ``sort_key``/``sort_dir``; newest first) and paged
        (``limit``, ``marker``)."""
        self._enforce(ctx, "get_all")
        params = dict(query)
        page = PageRequest(
            limit=parse_limit(params.get("limit")),
            marker=params.get("marker"),
            sort=parse_sort(query, tuple(SORT_COLUMNS), DEFAULT_SORT),
        )
        with self.core.db.reader() as session:
            return paginate(session, select(QosSpecs), QosSpecs, page, SORT_COLUMNS, QosSpecs.id)

    def get(self, ctx: RequestContext, specs_id: str) -> QosSpecs:
        self._enforce(ctx, "get")
        with self.core.db.reader() as session:
            return self._find(session, specs_id)

    def update(self, ctx: RequestContext, specs_id: str, data: dict[str, Any]) -> dict[str, str]:
        """Set keys (``consumer`` changes the consumer); returns what was set."""
        self._enforce(ctx, "update")
        values = dict(data)
        consumer = _consumer(values.pop("consumer")) if "consumer" in values else None
        specs = _specs(values)
        with self.core.db.writer() as session:
            row = self._find(session, specs_id)
            if consumer is not None:
                row.consumer = consumer
            row.specs = {**row.specs, **specs}
            row.updated_at = utcnow()
        return {**specs, **({"consumer": consumer} if consumer else {})}

    def delete_keys(self, ctx: RequestContext, specs_id: str, keys: Any) -> None:
        self._enforce(ctx, "update")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise InvalidInput(reason="keys must be a list of strings.")
        with self.core.db.writer() as session:
            row = self._find(session, specs_id)
            for key in keys:
                if key not in row.specs:
                    raise QoSSpecsKeyNotFound(specs_id=specs_id, specs_key=key)
            row.specs = {k: v for k, v in row.specs.items() if k not in keys}
            row.updated_at = utcnow()

    def delete(self, ctx: RequestContext, specs_id: str, force: bool) -> None:
        self._enforce(ctx, "delete")
        with self.core.db.writer() as session:
            row = self._find(session, specs_id)
            types = self._associated(session, specs_id)
            if types and not force:
                raise QoSSpecsInUse(specs_id=specs_id)
            for vtype in types:
                vtype.qos_specs_id = None
            session.delete(row)

    # -- associations -----------------------------------------------------------------

    def associations(self, ctx: RequestContext, specs_id: str) -> list[VolumeType]:
        self._enforce(ctx, "get")
        with self.core.db.reader() as session:
            self._find(session, specs_id)
            return self._associated(session, specs_id)

    @staticmethod
    def _type(session: Session, type_id: str | None) -> VolumeType:
        if not type_id:
            raise InvalidInput(reason="Volume Type id must not be None.")
        vtype = session.get(VolumeType, type_id)
        if vtype is None:
            raise VolumeTypeNotFound(volume_type_id=type_id)
        return vtype

    def associate(self, ctx: RequestContext, specs_id: str, type_id: str | None) -> None:
        self._enforce(ctx, "update")
        with self.core.db.writer() as session:
            self._find(session, specs_id)
            vtype = self._type(session, type_id)
            if vtype.qos_specs_id not in (None, specs_id):
                raise InvalidVolumeType(
                    reason=f"Type {vtype.id} is already associated with another qos specs: "
                    f"{vtype.qos_specs_id}"
                )
            vtype.qos_specs_id = specs_id

    def disassociate(self, ctx: RequestContext, specs_id: str, type_id: str | None) -> None:
        self._enforce(ctx, "update")
        with self.core.db.writer() as session:
            self._find(session, specs_id)
            vtype = self._type(session, type_id)
            if vtype.qos_specs_id == specs_id:
                vtype.qos_specs_id = None

    def disassociate_all(self, ctx: RequestContext, specs_id: str) -> None:
        self._enforce(ctx, "update")
        with self.core.db.writer() as session:
            self._find(session, specs_id)
            for vtype in self._associated(session, specs_id):
                vtype.qos_specs_id = None
