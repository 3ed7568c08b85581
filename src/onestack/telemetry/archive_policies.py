"""Archive policies and archive policy rules.

An archive policy says which aggregates of a metric are kept: for each
definition item a granularity and how long (points x granularity = timespan),
for every one of its aggregation methods.  Rules pick the policy of a metric
created without one, by ``fnmatch`` on its name (longest pattern first, as
Gnocchi orders them).

Every start ensures Gnocchi's defaults (``bool``, ``low``, ``medium``,
``high``, the rule ``default`` = ``*`` -> ``low``) and the policies Ceilometer
creates (``ceilometer-low``, ``ceilometer-low-rate``, ``ceilometer-high``,
``ceilometer-high-rate``), without touching policies an operator changed.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import is_duplicate
from onestack.telemetry import validate as v
from onestack.telemetry.aggregation import VALID_METHODS
from onestack.telemetry.core import TelemetryCore
from onestack.telemetry.exceptions import (
    ArchivePolicyAlreadyExists,
    ArchivePolicyInUse,
    ArchivePolicyRuleAlreadyExists,
    BadRequest,
    NoSuchArchivePolicy,
    NoSuchArchivePolicyRule,
)
from onestack.telemetry.models import ArchivePolicy, ArchivePolicyRule, Metric
from onestack.telemetry.timeutil import US, format_timedelta, parse_timespan

_VALID_VALUES = (
    VALID_METHODS | {"*"} | {f"-{m}" for m in VALID_METHODS} | {f"+{m}" for m in VALID_METHODS}
)


@dataclass(frozen=True)
class Item:
    """One definition item; durations in microseconds."""

    granularity: int
    points: int | None
    timespan: int | None

    @classmethod
    def build(cls, granularity: int | None, points: int | None, timespan: int | None) -> Item:
        """Gnocchi's ArchivePolicyItem: any two of the three decide the third."""
        if (
            granularity is not None
            and points is not None
            and timespan is not None
            and timespan != granularity * points
        ):
            raise ValueError("timespan ≠ granularity × points")
        if granularity is not None and granularity <= 0:
            raise ValueError("Granularity should be > 0")
        if points is not None and points <= 0:
            raise ValueError("Number of points should be > 0")
        if granularity is None:
            if points is None or timespan is None:
                raise ValueError("At least two of granularity/points/timespan must be provided")
            granularity = timespan // points
            if granularity <= 0:
                raise ValueError("Granularity should be > 0")
        if points is None:
            if timespan is None:
                return cls(granularity, None, None)
            points = timespan // granularity
            if points <= 0:
                raise ValueError("Calculated number of points is < 0")
        return cls(granularity, points, granularity * points)

    def stored(self) -> dict[str, Any]:
        return {"granularity": self.granularity, "points": self.points, "timespan": self.timespan}

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Item:
        return cls(int(data["granularity"]), data.get("points"), data.get("timespan"))


@dataclass(frozen=True)
class Policy:
    """An archive policy as the storage uses it."""

    name: str
    back_window: int
    items: tuple[Item, ...]  # finest granularity first
    methods: frozenset[str]

    @classmethod
    def of(cls, row: ArchivePolicy) -> Policy:
        items = sorted((Item.from_stored(d) for d in row.definition), key=lambda i: i.granularity)
        return cls(row.name, row.back_window, tuple(items), frozenset(row.aggregation_methods))

    @property
    def granularities(self) -> list[int]:
        return [item.granularity for item in self.items]

    @property
    def max_granularity(self) -> int:
        return self.items[-1].granularity

    def item(self, granularity: int) -> Item | None:
        for item in self.items:
            if item.granularity == granularity:
                return item
        return None

    @property
    def raw_blocks(self) -> int:
        """Blocks of the coarsest granularity kept raw (one more for ``rate:``)."""
        extra = 1 if any(m.startswith("rate:") for m in self.methods) else 0
        return self.back_window + extra


def resolve_methods(values: list[str], defaults: list[str]) -> list[str]:
    """Gnocchi's ``aggregation_methods``: ``*``, ``+m`` and ``-m`` against the defaults."""
    given = set(values)
    if "*" in given:
        methods = set(VALID_METHODS)
    elif (given and all(m.startswith(("+", "-")) for m in given)) or not given:
        methods = set(defaults)
    else:
        methods = {m for m in given if not m.startswith(("+", "-"))}
    for entry in given:
        if entry.startswith("-"):
            methods.discard(entry[1:])
        elif entry.startswith("+"):
            methods.add(entry[1:])
    return sorted(methods)


def _items(definition: Any, path: list[str]) -> list[Item]:
    entries = v.listing(definition, path, min_length=1)
    items = []
    for index, entry in enumerate(entries):
        where = [*path, str(index)]
        data = v.mapping(entry, where)
        v.keys(data, where, ("granularity", "points", "timespan"))
        durations: dict[str, int | None] = {}
        for key in ("granularity", "timespan"):
            if key in data:
                try:
                    durations[key] = parse_timespan(data[key])
                except ValueError as exc:
                    raise v.invalid(str(exc), [*where, key]) from None
            else:
                durations[key] = None
        points = v.integer(data["points"], [*where, "points"], 1) if "points" in data else None
        try:
            items.append(Item.build(durations["granularity"], points, durations["timespan"]))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    granularities = [i.granularity for i in items]
    for granularity in granularities:
        if granularities.count(granularity) > 1:
            raise BadRequest(
                f"More than one archive policy uses granularity `{granularity / US:g}'"
            )
    return items


def policy_view(row: ArchivePolicy) -> dict[str, Any]:
    policy = Policy.of(row)
    return {
        "name": row.name,
        "back_window": row.back_window,
        "definition": [
            {
                "granularity": format_timedelta(item.granularity),
                "points": item.points,
                "timespan": format_timedelta(item.timespan),
            }
            for item in policy.items
        ],
        "aggregation_methods": sorted(policy.methods),
    }


def rule_view(row: ArchivePolicyRule) -> dict[str, Any]:
    return {
        "name": row.name,
        "metric_pattern": row.metric_pattern,
        "archive_policy_name": row.archive_policy_name,
    }


def _definition(*items: tuple[float, float]) -> list[dict[str, Any]]:
    return [Item.build(int(g * US), None, int(t * US)).stored() for g, t in items]


_DAY = 86400.0
DEFAULTS: dict[str, tuple[int, list[dict[str, Any]], list[str] | None]] = {
    "bool": (3600, _definition((1, 365 * _DAY)), ["last"]),
    "low": (0, _definition((300, 30 * _DAY)), None),
    "medium": (0, _definition((60, 7 * _DAY), (3600, 365 * _DAY)), None),
    "high": (0, _definition((1, 3600), (60, 7 * _DAY), (3600, 365 * _DAY)), None),
    "ceilometer-low": (0, _definition((300, 30 * _DAY)), ["mean"]),
    "ceilometer-low-rate": (0, _definition((300, 30 * _DAY)), ["mean", "rate:mean"]),
    "ceilometer-high": (0, _definition((1, 3600), (60, _DAY), (3600, 365 * _DAY)), ["mean"]),
    "ceilometer-high-rate": (
        0,
        _definition((1, 3600), (60, _DAY), (3600, 365 * _DAY)),
        ["mean", "rate:mean"],
    ),
}


class ArchivePolicyManager:
    def __init__(self, core: TelemetryCore) -> None:
        self.core = core

    # -- policies --------------------------------------------------------------

    def ensure_defaults(self) -> None:
        defaults = self.core.settings.default_aggregation_methods
        with self.core.db.writer() as session:
            existing = set(session.scalars(select(ArchivePolicy.name)))
            for name, (back_window, definition, methods) in DEFAULTS.items():
                if name not in existing:
                    session.add(
                        ArchivePolicy(
                            name=name,
                            back_window=back_window,
                            definition=definition,
                            aggregation_methods=sorted(methods or defaults),
                        )
                    )
            session.flush()
            if session.scalar(select(func.count()).select_from(ArchivePolicyRule)) == 0:
                session.add(
                    ArchivePolicyRule(name="default", metric_pattern="*", archive_policy_name="low")
                )

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        self.core.enforce(ctx, "create archive policy")
        data = v.mapping(body, [])
        v.keys(data, [], ("name", "back_window", "aggregation_methods", "definition"),
               ("name", "definition"))  # fmt: skip
        name = v.string(data["name"], ["name"])
        back_window = v.integer(data.get("back_window", 0), ["back_window"], 0)
        methods_in = data.get("aggregation_methods")
        if methods_in is None:
            methods_in = list(self.core.settings.default_aggregation_methods)
        methods_list = v.listing(methods_in, ["aggregation_methods"])
        for index, method in enumerate(methods_list):
            if not isinstance(method, str) or method not in _VALID_VALUES:
                raise v.invalid("not a valid value", ["aggregation_methods", str(index)])
        items = _items(data["definition"], ["definition"])
        methods = resolve_methods(methods_list, self.core.settings.default_aggregation_methods)
        row = ArchivePolicy(
            name=name,
            back_window=back_window,
            definition=[i.stored() for i in items],
            aggregation_methods=methods,
        )
        try:
            with self.core.db.writer() as session:
                if session.get(ArchivePolicy, name) is not None:
                    raise ArchivePolicyAlreadyExists(name=name)
                session.add(row)
        except IntegrityError as exc:
            if is_duplicate(exc):
                raise ArchivePolicyAlreadyExists(name=name) from None
            raise
        return policy_view(row)

    def row(self, session: Session, name: str) -> ArchivePolicy:
        row = session.get(ArchivePolicy, name)
        if row is None:
            raise NoSuchArchivePolicy(name=name)
        return row

    def get(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        with self.core.db.reader() as session:
            row = self.row(session, name)
            self.core.enforce(ctx, "get archive policy", policy_view(row))
            return policy_view(row)

    def policy(self, name: str) -> Policy:
        with self.core.db.reader() as session:
            return Policy.of(self.row(session, name))

    def policies(self, names: set[str]) -> dict[str, Policy]:
        if not names:
            return {}
        with self.core.db.reader() as session:
            rows = session.scalars(select(ArchivePolicy).where(ArchivePolicy.name.in_(names)))
            return {row.name: Policy.of(row) for row in rows}

    def list_policies(self, ctx: RequestContext) -> list[dict[str, Any]]:
        self.core.enforce(ctx, "list archive policy")
        with self.core.db.reader() as session:
            rows = session.scalars(select(ArchivePolicy).order_by(ArchivePolicy.name))
            return [policy_view(r) for r in rows]

    def update(self, ctx: RequestContext, name: str, body: Any) -> dict[str, Any]:
        with self.core.db.writer() as session:
            row = self.row(session, name)
            self.core.enforce(ctx, "update archive policy", policy_view(row))
            data = v.mapping(body, [])
            v.keys(data, [], ("definition", "back_window"), ("definition",))
            items = _items(data["definition"], ["definition"])
            current = Policy.of(row)
            new = sorted(items, key=lambda i: i.granularity)
            if len(new) != len(current.items):
                raise BadRequest(
                    f"Archive policy {name} does not support change: "
                    "Cannot add or drop granularities"
                )
            for old_item, new_item in zip(current.items, new, strict=True):
                if old_item.granularity != new_item.granularity:
                    raise BadRequest(
                        f"Archive policy {name} does not support change: "
                        f"{old_item.granularity / US:g} granularity interval was changed"
                    )
            row.definition = [i.stored() for i in new]
            if data.get("back_window") is not None:
                row.back_window = v.integer(data["back_window"], ["back_window"], 0)
            return policy_view(row)

    def delete(self, ctx: RequestContext, name: str) -> None:
        self.core.enforce(ctx, "delete archive policy")
        with self.core.db.writer() as session:
            row = self.row(session, name)
            used = session.scalar(
                select(func.count()).select_from(Metric).where(Metric.archive_policy_name == name)
            )
            ruled = session.scalar(
                select(func.count())
                .select_from(ArchivePolicyRule)
                .where(ArchivePolicyRule.archive_policy_name == name)
            )
            if used or ruled:
                raise ArchivePolicyInUse(name=name)
            session.delete(row)

    # -- rules -------------------------------------------------------------------

    def create_rule(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        self.core.enforce(ctx, "create archive policy rule")
        data = v.mapping(body, [])
        fields = ("name", "metric_pattern", "archive_policy_name")
        v.keys(data, [], fields, fields)
        name, pattern, policy = (v.string(data[k], [k]) for k in fields)
        with self.core.db.writer() as session:
            if session.get(ArchivePolicy, policy) is None:
                raise BadRequest(
                    f"Archive policy {policy} does not exist",
                    {"cause": "Archive policy does not exist", "detail": policy},
                )
            if session.get(ArchivePolicyRule, name) is not None:
                raise ArchivePolicyRuleAlreadyExists(name=name)
            row = ArchivePolicyRule(name=name, metric_pattern=pattern, archive_policy_name=policy)
            session.add(row)
            return rule_view(row)

    def _rule(self, session: Session, name: str) -> ArchivePolicyRule:
        row = session.get(ArchivePolicyRule, name)
        if row is None:
            raise NoSuchArchivePolicyRule(name=name)
        return row

    def get_rule(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        with self.core.db.reader() as session:
            row = self._rule(session, name)
            self.core.enforce(ctx, "get archive policy rule", rule_view(row))
            return rule_view(row)

    def list_rules(self, ctx: RequestContext) -> list[dict[str, Any]]:
        self.core.enforce(ctx, "list archive policy rule")
        with self.core.db.reader() as session:
            return [rule_view(r) for r in self._ordered_rules(session)]

    @staticmethod
    def _ordered_rules(session: Session) -> list[ArchivePolicyRule]:
        return list(
            session.scalars(
                select(ArchivePolicyRule).order_by(
                    ArchivePolicyRule.metric_pattern.desc(), ArchivePolicyRule.name.asc()
                )
            )
        )

    def rename_rule(self, ctx: RequestContext, name: str, body: Any) -> dict[str, Any]:
        with self.core.db.writer() as session:
            row = self._rule(session, name)
            self.core.enforce(ctx, "update archive policy rule")
            data = v.mapping(body, [])
            v.keys(data, [], ("name",), ("name",))
            new_name = v.string(data["name"], ["name"])
            if new_name != name:
                if session.get(ArchivePolicyRule, new_name) is not None:
                    raise BadRequest(
                        f"Archive policy rule {name} does not support change: "
                        f"rule {new_name} already exists"
                    )
                replacement = ArchivePolicyRule(
                    name=new_name,
                    metric_pattern=row.metric_pattern,
                    archive_policy_name=row.archive_policy_name,
                )
                session.delete(row)
                session.flush()
                session.add(replacement)
                row = replacement
            return rule_view(row)

    def delete_rule(self, ctx: RequestContext, name: str) -> None:
        self.core.enforce(ctx, "delete archive policy rule")
        with self.core.db.writer() as session:
            session.delete(self._rule(session, name))

    def policy_name_for(self, session: Session, metric_name: str | None) -> str | None:
        """The policy the rules give a metric named ``metric_name`` (None: no rule matches)."""
        for rule in self._ordered_rules(session):
            if fnmatch.fnmatch(metric_name or "", rule.metric_pattern):
                return rule.archive_policy_name
        return None
