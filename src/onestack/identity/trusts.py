"""OS-TRUST: a trustor delegates some of its roles on a project to a trustee.

The trustee authenticates as itself and asks for the scope
``{"OS-TRUST:trust": {"id": ...}}``; the token it gets is scoped to the
trust's project with exactly the trust's roles (and what they imply), and
names the trustor as its user when the trust allows ``impersonation``.

The rules, as Keystone applies them:

- only the trustor creates a trust (``trustor_user_id`` is the caller), and
  only with roles it holds on the project;
- ``remaining_uses`` counts the tokens that may still be issued with the
  trust; ``expires_at`` ends it; deleting it ends every token issued with it
  (and every trust redelegated from it);
- a trust ends with its trustor's access: a token issued with a trust stops
  validating as soon as the trustor is disabled or loses one of the trust's
  roles on the project (tokens are re-checked at every validation);
- redelegation: a trust-scoped token may create a trust only when its trust
  allows redelegation (``allow_redelegation`` / ``redelegation_count``); the
  new trust is from the old trust's trustee, holds a subset of its roles on
  the same project, expires no later, impersonates only if the old one did,
  and may be redelegated once fewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Forbidden
from onestack.identity.assignment import effective_role_ids, implied_closure
from onestack.identity.core import IdentityCore, new_id
from onestack.identity.exceptions import not_found
from onestack.identity.models import Domain, Project, Role, Trust, User

#: how many times a trust created with ``allow_redelegation`` may be redelegated
MAX_REDELEGATION_COUNT = 3


@dataclass(frozen=True)
class TrustScope:
    """What a token issued with a trust carries (the ``OS-TRUST:trust`` block)."""

    id: str
    trustor_user_id: str
    trustee_user_id: str
    impersonation: bool
    project_id: str
    role_ids: frozenset[str]


def parse_time(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for field '{field}': {value!r} is not a date-time.")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"Invalid input for field '{field}': {value!r}.") from None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def is_active(trust: Trust, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if trust.deleted_at is not None:
        return False
    if trust.expires_at is not None and trust.expires_at <= now:
        return False
    return trust.remaining_uses is None or trust.remaining_uses > 0


class TrustManager:
    def __init__(self, core: IdentityCore) -> None:
        self.core = core

    # -- the API ----------------------------------------------------------

    def create(self, ctx: RequestContext, body: dict[str, Any]) -> tuple[Trust, list[Role]]:
        trustor_id = _required_str(body, "trustor_user_id")
        trustee_id = _required_str(body, "trustee_user_id")
        impersonation = body.get("impersonation")
        if not isinstance(impersonation, bool):
            raise BadRequest("Invalid input for field 'impersonation': a boolean is required.")
        self.core.enforcer.enforce(
            ctx, "identity:create_trust", {"trust": {"trustor_user_id": trustor_id}}
        )
        remaining = body.get("remaining_uses")
        if remaining is not None and (
            not isinstance(remaining, int) or isinstance(remaining, bool) or remaining < 1
        ):
            raise BadRequest("Invalid input for field 'remaining_uses': a positive integer.")
        allow = body.get("allow_redelegation", False)
        if not isinstance(allow, bool):
            raise BadRequest("Invalid input for field 'allow_redelegation': a boolean.")
        count = body.get("redelegation_count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise BadRequest("Invalid input for field 'redelegation_count': an integer.")
        if allow and remaining is not None:
            raise BadRequest("remaining_uses must not be set if redelegation is allowed.")
        expires = parse_time(body.get("expires_at"), "expires_at")
        if expires is not None and expires <= utcnow():
            raise BadRequest("Trust expiration time must be in the future.")
        project_id = body.get("project_id")
        if project_id is not None and not isinstance(project_id, str):
            raise BadRequest("Invalid input for field 'project_id'.")
        refs = body.get("roles") or []
        if not isinstance(refs, list):
            raise BadRequest("Invalid input for field 'roles': a list is required.")
        with self.core.write("trust") as session:
            if session.get(User, trustor_id) is None:
                raise not_found("user", trustor_id)
            trustee = session.get(User, trustee_id)
            if trustee is None:
                raise not_found("user", trustee_id)
            roles = [_role(session, ref) for ref in refs]
            if project_id:
                project = session.get(Project, project_id)
                if project is None:
                    raise not_found("project", project_id)
                if not roles:
                    raise BadRequest("At least one role should be specified.")
                original = ctx.extra.get("trust_id") if ctx.extra else None
                if original:  # redelegation: the original trust's roles (checked below)
                    held = {r.id for r in roles}
                else:
                    held = effective_role_ids(session, trustor_id, project=project)
                for role in roles:
                    if role.id not in held:
                        raise Forbidden(
                            f"The trustor does not have the role {role.name} on the project."
                        )
            elif roles:
                raise BadRequest("Roles can only be delegated on a project.")
            original_id = ctx.extra.get("trust_id") if ctx.extra else None
            redelegated_from: Trust | None = None
            if original_id:
                redelegated_from = session.get(Trust, original_id)
                if redelegated_from is None or not is_active(redelegated_from):
                    raise Forbidden("The trust of this token is no longer valid.")
                count, expires = _redelegation(
                    redelegated_from, trustor_id, project_id, roles, impersonation, count, expires
                )
            elif allow:
                if count is None:
                    count = MAX_REDELEGATION_COUNT
                elif count < 0 or count > MAX_REDELEGATION_COUNT:
                    raise BadRequest(
                        f"redelegation_count must be between 0 and {MAX_REDELEGATION_COUNT}."
                    )
            else:
                count = 0
            trust = Trust(
                id=new_id(),
                trustor_user_id=trustor_id,
                trustee_user_id=trustee_id,
                project_id=project_id,
                impersonation=impersonation,
                expires_at=expires,
                remaining_uses=remaining,
                redelegation_count=count or 0,
                redelegated_trust_id=redelegated_from.id if redelegated_from else None,
                role_ids=[r.id for r in roles],
                extra={},
            )
            session.add(trust)
            session.flush()
            return trust, roles

    def list_trusts(
        self, ctx: RequestContext, query: dict[str, str]
    ) -> list[tuple[Trust, list[Role]]]:
        trustor = query.get("trustor_user_id")
        trustee = query.get("trustee_user_id")
        target = {"trust": {"trustor_user_id": trustor, "trustee_user_id": trustee}}
        if trustor:
            self.core.enforcer.enforce(ctx, "identity:list_trusts_for_trustor", target)
        if trustee:
            self.core.enforcer.enforce(ctx, "identity:list_trusts_for_trustee", target)
        if not trustor and not trustee:
            self.core.enforcer.enforce(ctx, "identity:list_trusts", target)
        with self.core.read() as session:
            stmt = select(Trust).where(Trust.deleted_at.is_(None))
            if trustor:
                stmt = stmt.where(Trust.trustor_user_id == trustor)
            if trustee:
                stmt = stmt.where(Trust.trustee_user_id == trustee)
            now = utcnow()
            rows = session.scalars(stmt.order_by(Trust.created_at))
            trusts = [t for t in rows if is_active(t, now)]
            return [(t, _roles(session, t)) for t in trusts]

    def get(self, ctx: RequestContext, trust_id: str) -> tuple[Trust, list[Role]]:
        with self.core.read() as session:
            trust = self._visible(session, ctx, trust_id, "identity:get_trust")
            return trust, _roles(session, trust)

    def delete(self, ctx: RequestContext, trust_id: str) -> None:
        with self.core.write("trust") as session:
            trust = session.get(Trust, trust_id)
            if trust is None or trust.deleted_at is not None:
                raise not_found("trust", trust_id)
            self.core.enforcer.enforce(
                ctx, "identity:delete_trust", {"trust": {"trustor_user_id": trust.trustor_user_id}}
            )
            now = utcnow()
            pending = [trust]
            while pending:
                current = pending.pop()
                current.deleted_at = now
                pending.extend(
                    session.scalars(
                        select(Trust).where(
                            Trust.redelegated_trust_id == current.id, Trust.deleted_at.is_(None)
                        )
                    )
                )

    def roles(self, ctx: RequestContext, trust_id: str) -> list[Role]:
        with self.core.read() as session:
            trust = self._visible(session, ctx, trust_id, "identity:list_roles_for_trust")
            return _roles(session, trust)

    def role(self, ctx: RequestContext, trust_id: str, role_id: str) -> Role:
        with self.core.read() as session:
            trust = self._visible(session, ctx, trust_id, "identity:get_role_for_trust")
            if role_id not in trust.role_ids:
                raise not_found("role", role_id)
            role = session.get(Role, role_id)
            if role is None:
                raise not_found("role", role_id)
            return role

    def _visible(self, session: Session, ctx: RequestContext, trust_id: str, rule: str) -> Trust:
        trust = session.get(Trust, trust_id)
        if trust is None or not is_active(trust):
            raise not_found("trust", trust_id)
        self.core.enforcer.enforce(
            ctx,
            rule,
            {
                "trust": {
                    "trustor_user_id": trust.trustor_user_id,
                    "trustee_user_id": trust.trustee_user_id,
                }
            },
        )
        return trust

    # -- tokens -------------------------------------------------------------

    def consume(self, trust_id: str, user_id: str) -> TrustScope:
        """Authenticating ``user_id`` with the trust: it must be the trustee; one use is
        spent.  Raises Forbidden (403) or Unauthorized as Keystone does."""
        with self.core.write("trust") as session:
            trust = session.get(Trust, trust_id)
            if trust is None or trust.deleted_at is not None:
                raise not_found("trust", trust_id)
            if not is_active(trust):
                raise Forbidden("The trust has expired or has no uses left.")
            if trust.trustee_user_id != user_id:
                raise Forbidden("The authenticated user is not the trustee of the trust.")
            scope = self.scope(session, trust)
            if trust.remaining_uses is not None:
                trust.remaining_uses -= 1
            return scope

    @staticmethod
    def scope(session: Session, trust: Trust) -> TrustScope:
        """The trust as a token carries it; Forbidden when it grants nothing any more
        (the trustor is disabled or lost one of the roles)."""
        trustor = session.get(User, trust.trustor_user_id)
        if trustor is None or not trustor.enabled:
            raise Forbidden("The trustor is unknown or disabled.")
        domain = session.get(Domain, trustor.domain_id)
        if domain is None or not domain.enabled:
            raise Forbidden("The trustor's domain is disabled.")
        trustee = session.get(User, trust.trustee_user_id)
        if trustee is None or not trustee.enabled:
            raise Forbidden("The trustee is unknown or disabled.")
        if not trust.project_id:
            return TrustScope(
                trust.id, trust.trustor_user_id, trust.trustee_user_id,
                trust.impersonation, "", frozenset(),
            )  # fmt: skip
        project = session.get(Project, trust.project_id)
        if project is None or not project.enabled:
            raise Forbidden("The trust's project is unknown or disabled.")
        if trust.redelegated_trust_id:
            # a redelegated trust holds what its (still valid) original holds
            parent = session.get(Trust, trust.redelegated_trust_id)
            if parent is None or parent.deleted_at is not None:
                raise Forbidden("The trust this one was redelegated from is deleted.")
            if parent.expires_at is not None and parent.expires_at <= utcnow():
                raise Forbidden("The trust this one was redelegated from has expired.")
            held = set(TrustManager.scope(session, parent).role_ids)
        else:
            held = effective_role_ids(session, trust.trustor_user_id, project=project)
        if not set(trust.role_ids) <= held:
            raise Forbidden("The trustor no longer has the trust's roles on the project.")
        roles = implied_closure(session, trust.role_ids) & held
        return TrustScope(
            trust.id,
            trust.trustor_user_id,
            trust.trustee_user_id,
            trust.impersonation,
            trust.project_id,
            frozenset(roles),
        )

    def validate(self, session: Session, trust_id: str) -> TrustScope | None:
        """The scope of a still-valid trust (for token validation), else None.  Spent uses
        do not end tokens already issued."""
        trust = session.get(Trust, trust_id)
        if trust is None or trust.deleted_at is not None:
            return None
        if trust.expires_at is not None and trust.expires_at <= utcnow():
            return None
        try:
            return self.scope(session, trust)
        except Forbidden:
            return None


def _required_str(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Invalid input for field '{field}': a string is required.")
    return value


def _role(session: Session, ref: Any) -> Role:
    if not isinstance(ref, dict):
        raise BadRequest("Each role of a trust is an object with an id or a name.")
    if ref.get("id"):
        role = session.get(Role, str(ref["id"]))
        if role is None:
            raise not_found("role", str(ref["id"]))
        return role
    name = ref.get("name")
    if not isinstance(name, str):
        raise BadRequest("Each role of a trust is an object with an id or a name.")
    role = session.scalar(select(Role).where(Role.name == name, Role.domain_id.is_(None)))
    if role is None:
        raise not_found("role", name)
    return role


def _roles(session: Session, trust: Trust) -> list[Role]:
    if not trust.role_ids:
        return []
    return list(session.scalars(select(Role).where(Role.id.in_(trust.role_ids))))


def _redelegation(
    original: Trust,
    trustor_id: str,
    project_id: str | None,
    roles: list[Role],
    impersonation: bool,
    count: int | None,
    expires: datetime | None,
) -> tuple[int, datetime | None]:
    """Check a trust made with a trust-scoped token; returns its count and expiry."""
    if original.redelegation_count <= 0:
        raise Forbidden("Redelegation is not allowed by the token's trust.")
    if trustor_id != original.trustee_user_id and trustor_id != original.trustor_user_id:
        raise Forbidden("A redelegated trust must be from the trustee of the original trust.")
    if project_id != original.project_id:
        raise Forbidden("A redelegated trust must be on the project of the original trust.")
    if not {r.id for r in roles} <= set(original.role_ids):
        raise Forbidden("A redelegated trust may only hold roles of the original trust.")
    if impersonation and not original.impersonation:
        raise Forbidden("Impersonation is not allowed by the original trust.")
    if original.expires_at is not None:
        if expires is None:
            expires = original.expires_at
        elif expires > original.expires_at:
            raise Forbidden("A redelegated trust cannot outlive the original trust.")
    allowed = original.redelegation_count - 1
    if count is None:
        count = allowed
    elif count > allowed:
        raise Forbidden(f"redelegation_count may be at most {allowed} for this trust.")
    return count, expires
