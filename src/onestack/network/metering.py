"""The metering extension's API: labels and their rules (admin only, as Neutron's
default policy has it).

Only the API: onestack's routers count no traffic for these labels (Neutron's
metering agent would, in iptables chains of each router).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network.attrs import as_bool, as_str, as_uuid, check_known, invalid, new_id
from onestack.network.collection import Collection
from onestack.network.core import NetworkCore
from onestack.network.exceptions import (
    InvalidInput,
    MeteringLabelNotFound,
    MeteringLabelRuleNotFound,
    MeteringLabelRuleOverlaps,
)
from onestack.network.listing import ListSpec
from onestack.network.models import MeteringLabel, MeteringLabelRule

L = MeteringLabel
R = MeteringLabelRule
LABEL_ATTRS = {"name", "description", "shared", "project_id", "tenant_id"}
RULE_ATTRS = {
    "metering_label_id", "direction", "excluded", "remote_ip_prefix", "source_ip_prefix",
    "destination_ip_prefix", "project_id", "tenant_id",
}  # fmt: skip
LABEL_LIST = ListSpec(
    MeteringLabel,
    {
        "id": L.id, "name": L.name, "description": L.description, "project_id": L.project_id,
        "tenant_id": L.project_id, "shared": L.shared,
    },
    booleans=frozenset({"shared"}),
)  # fmt: skip
RULE_LIST = ListSpec(
    MeteringLabelRule,
    {
        "id": R.id, "metering_label_id": R.metering_label_id, "direction": R.direction,
        "excluded": R.excluded, "remote_ip_prefix": R.remote_ip_prefix,
        "source_ip_prefix": R.source_ip_prefix, "destination_ip_prefix": R.destination_ip_prefix,
    },
    booleans=frozenset({"excluded"}),
)  # fmt: skip


class MeteringLabels(Collection[MeteringLabel]):
    resource = "metering_label"
    spec = LABEL_LIST
    wakes_agent = False

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(L)
        return stmt if self.core.sees_all(ctx) else stmt.where(false())

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        row = session.scalar(self._visible(ctx).where(L.id == item_id))
        if row is None:
            raise MeteringLabelNotFound(label_id=item_id)
        return row

    def _decorate(self, session: Session, rows: Sequence[Any]) -> None:
        """Labels have no tags."""

    def _create(self, session: Session, ctx: RequestContext, body: Mapping[str, Any]) -> Any:
        check_known(body, LABEL_ATTRS)
        project = self.core.owner_for_create(ctx, body)
        self.core.enforce(ctx, "create_metering_label", {"project_id": project})
        row = MeteringLabel(
            id=new_id(), project_id=project,
            name=as_str("name", body.get("name", ""), allow_none=True),
            description=as_str("description", body.get("description", ""), allow_none=True),
            shared=as_bool("shared", body.get("shared", False)),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "delete", if_match)
            for rule in session.scalars(select(R).where(R.metering_label_id == row.id)):
                session.delete(rule)
            session.delete(row)


class MeteringLabelRules(Collection[MeteringLabelRule]):
    resource = "metering_label_rule"
    spec = RULE_LIST
    wakes_agent = False

    def __init__(self, core: NetworkCore, labels: MeteringLabels) -> None:
        super().__init__(core)
        self.labels = labels

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(R)
        return stmt if self.core.sees_all(ctx) else stmt.where(false())

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        row = session.scalar(self._visible(ctx).where(R.id == item_id))
        if row is None:
            raise MeteringLabelRuleNotFound(rule_id=item_id)
        return row

    def _decorate(self, session: Session, rows: Sequence[Any]) -> None:
        """Rules have no tags."""

    def _create(self, session: Session, ctx: RequestContext, body: Mapping[str, Any]) -> Any:
        check_known(body, RULE_ATTRS)
        if "metering_label_id" not in body:
            raise invalid("metering_label_id", "'metering_label_id' is a required attribute")
        label_id = as_uuid("metering_label_id", body["metering_label_id"])
        self.core.enforce(ctx, "create_metering_label_rule", {"project_id": ctx.project_id})
        label = self.labels._find(session, ctx, label_id)
        direction = body.get("direction", "ingress")
        if direction not in ("ingress", "egress"):
            raise invalid("direction", f"'{direction}' is not in ['ingress', 'egress']")
        prefixes = {
            name: _cidr(name, body.get(name))
            for name in ("remote_ip_prefix", "source_ip_prefix", "destination_ip_prefix")
        }
        remote = prefixes["remote_ip_prefix"]
        if remote and (prefixes["source_ip_prefix"] or prefixes["destination_ip_prefix"]):
            raise InvalidInput(
                error_message="The remote_ip_prefix parameter cannot be used with "
                "source_ip_prefix or destination_ip_prefix"
            )
        if not any(prefixes.values()):
            raise InvalidInput(
                error_message="You must define at least one of the following parameters "
                "'remote_ip_prefix', or 'source_ip_prefix' or 'destination_ip_prefix'."
            )
        excluded = as_bool("excluded", body.get("excluded", False))
        if remote:
            others = session.scalars(
                select(R).where(
                    R.metering_label_id == label.id,
                    R.direction == direction,
                    R.excluded == excluded,
                    R.remote_ip_prefix.is_not(None),
                )
            )
            mine = ipaddress.ip_network(remote)
            for other in others:
                theirs = ipaddress.ip_network(str(other.remote_ip_prefix))
                if theirs.version == mine.version and theirs.overlaps(mine):
                    raise MeteringLabelRuleOverlaps(remote_ip_prefix=remote)
        row = MeteringLabelRule(
            id=new_id(), project_id=label.project_id, metering_label_id=label.id,
            direction=direction, excluded=excluded, **prefixes,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as session:
            row = self._find(session, ctx, item_id)
            self.core.enforce(ctx, "delete_metering_label_rule", {"project_id": row.project_id})
            session.delete(row)


def _cidr(name: str, value: Any) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        raise invalid(name, f"'{value}' is not a valid IP subnet") from None
