"""``/v3/policies``: policy documents stored for other services to fetch.

Keystone keeps them (a ``blob`` and its MIME ``type``) and enforces none of them;
neither does onestack: each service's rules are its ``policies.py`` defaults and the
operator's policy file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.pagination import apply_filters
from onestack.identity.core import IdentityCore, get_or_404, new_id
from onestack.identity.models import PolicyBlob
from onestack.identity.resources import split_extra

FIELDS = ("type", "blob")


class PolicyStore:
    def __init__(self, core: IdentityCore) -> None:
        self.core = core
        self.policy = core.enforcer

    def list(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> list[PolicyBlob]:
        self.policy.enforce(ctx, "identity:list_policies", {})
        with self.core.read() as session:
            stmt = apply_filters(select(PolicyBlob), query, {"type": PolicyBlob.type})
            return list(session.scalars(stmt.order_by(PolicyBlob.id)))

    def show(self, ctx: RequestContext, policy_id: str) -> PolicyBlob:
        self.policy.enforce(ctx, "identity:get_policy", {})
        with self.core.read() as session:
            return get_or_404(session, PolicyBlob, "policy", policy_id)

    def create(self, ctx: RequestContext, data: dict[str, Any]) -> PolicyBlob:
        self.policy.enforce(ctx, "identity:create_policy", {})
        fields, extra = split_extra(data, FIELDS)
        with self.core.write("policy") as session:
            record = PolicyBlob(id=new_id(), type=fields["type"], blob=fields["blob"], extra=extra)
            session.add(record)
            session.flush()
        return record

    def update(self, ctx: RequestContext, policy_id: str, data: dict[str, Any]) -> PolicyBlob:
        self.policy.enforce(ctx, "identity:update_policy", {})
        fields, extra = split_extra(data, FIELDS)
        with self.core.write("policy") as session:
            record = get_or_404(session, PolicyBlob, "policy", policy_id)
            for key, value in fields.items():
                setattr(record, key, value)
            if extra:
                record.extra = {**record.extra, **extra}
            session.flush()
        return record

    def delete(self, ctx: RequestContext, policy_id: str) -> None:
        self.policy.enforce(ctx, "identity:delete_policy", {})
        with self.core.write("policy") as session:
            session.delete(get_or_404(session, PolicyBlob, "policy", policy_id))
