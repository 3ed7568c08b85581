"""Cinder's quota sets, quota class sets and absolute limits: policy and
transactions over the counting quotas of ``quotas.py``.

Each call returns the values in Cinder's order (``quotas.ORDER``, then the
per-volume-type quotas); the API wraps them in ``quota_set`` /
``quota_class_set`` / ``limits``.  Only the ``default`` class exists: every
class name reads and writes the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onestack.common.context import RequestContext
from onestack.common.quota import QuotaUsage
from onestack.volume.core import VolumeCore
from onestack.volume.exceptions import InvalidQuotaValue, UnknownQuotaKey
from onestack.volume.quotas import VolumeQuotas

#: keys a quota (class) set body may carry besides the limits
IGNORED_KEYS = ("id", "tenant_id", "class_name")


def check_limits(values: Mapping[str, Any]) -> dict[str, int]:
    """The limits of a quota (class) set body: integers >= -1 (the names are
    checked against the quotas there are, per volume type included)."""
    out = {}
    for name, value in values.items():
        if name in IGNORED_KEYS:
            continue
        if not isinstance(name, str):
            raise UnknownQuotaKey(key=name)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise InvalidQuotaValue(name=name, value=repr(value))
        out[name] = value
    return out


class QuotaSetManager:
    def __init__(self, core: VolumeCore) -> None:
        self.core = core

    @property
    def _quotas(self) -> VolumeQuotas:
        return self.core.quotas

    def limits(self, ctx: RequestContext, project_id: str) -> dict[str, int]:
        """A project's limits."""
        self.core.enforce(ctx, "volume_extension:quotas:show", project_id)
        with self.core.db.reader() as session:
            return self._quotas.limits(session, project_id)

    def usage(self, ctx: RequestContext, project_id: str) -> dict[str, QuotaUsage]:
        """A project's limits with what it uses of each."""
        self.core.enforce(ctx, "volume_extension:quotas:show", project_id)
        with self.core.db.reader() as session:
            return self._quotas.usage(session, project_id)

    def defaults(self, ctx: RequestContext) -> dict[str, int]:
        """The limits of a project that has none of its own (the ``default`` class)."""
        with self.core.db.reader() as session:
            return self._quotas.defaults(session)

    def update(
        self, ctx: RequestContext, project_id: str, values: Mapping[str, Any]
    ) -> dict[str, int]:
        self.core.enforce(ctx, "volume_extension:quotas:update", project_id)
        limits = check_limits(values)
        with self.core.db.writer() as session:
            self._quotas.set_limits(session, project_id, limits)
            return self._quotas.limits(session, project_id)

    def reset(self, ctx: RequestContext, project_id: str) -> None:
        """Forget a project's own limits (back to the defaults)."""
        self.core.enforce(ctx, "volume_extension:quotas:delete", project_id)
        with self.core.db.writer() as session:
            self._quotas.reset(session, project_id)

    def update_defaults(self, ctx: RequestContext, values: Mapping[str, Any]) -> dict[str, int]:
        self.core.enforce(ctx, "volume_extension:quotas:update")
        limits = check_limits(values)
        with self.core.db.writer() as session:
            self._quotas.set_defaults(session, limits)
            return self._quotas.defaults(session)

    def absolute(self, ctx: RequestContext, project_id: str | None) -> dict[str, QuotaUsage]:
        """Usage for ``GET /limits``: the caller's project, or (an administrator
        only) the ``project_id`` asked for."""
        target = ctx.project_id or ""
        if ctx.is_admin and project_id:
            target = project_id
        with self.core.db.reader() as session:
            return self._quotas.usage(session, target)
