"""Authentication and tokens: issue, validate, revoke.

A token is self-contained (Fernet) but never trusted alone: validation also
checks expiry, revocation events, that the user, project and domain still
exist and are enabled, and recomputes the roles, so a removed grant takes
effect at once.  Validated tokens are cached per identity revision (every
identity write invalidates the cache) and for at most
``identity.token_cache_seconds``, which bounds how long another replica can
lag behind a revocation it did not see.
"""

from __future__ import annotations

import asyncio
import base64
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Forbidden, Unauthorized
from onestack.identity.assignment import effective_role_ids, roles_by_id
from onestack.identity.core import IdentityCore
from onestack.identity.exceptions import AuthenticationFailed, InvalidScope, TokenNotFound
from onestack.identity.fernet import TokenFormatter, TokenPayload
from onestack.identity.models import (
    ApplicationCredential,
    Domain,
    Project,
    RevocationEvent,
    User,
)
from onestack.identity.resources import project_ancestors, revoke
from onestack.identity.trusts import TrustManager, TrustScope


@dataclass(frozen=True)
class RoleRef:
    id: str
    name: str
    domain_id: str | None = None


@dataclass(frozen=True)
class TokenData:
    """A validated token: everything a token response or a request context needs."""

    payload: TokenPayload
    user: User
    user_domain: Domain
    roles: tuple[RoleRef, ...] = ()
    project: Project | None = None
    project_domain: Domain | None = None
    domain: Domain | None = None
    app_cred: ApplicationCredential | None = None
    trust: TrustScope | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def scoped(self) -> bool:
        return bool(self.project or self.domain or self.payload.system)

    def context(self, request_id: str, token: str) -> RequestContext:
        return RequestContext(
            request_id=request_id,
            user_id=self.user.id,
            user_name=self.user.name,
            user_domain_id=self.user.domain_id,
            project_id=self.project.id if self.project else None,
            project_name=self.project.name if self.project else None,
            project_domain_id=self.project.domain_id if self.project else None,
            domain_id=self.domain.id if self.domain else None,
            domain_name=self.domain.name if self.domain else None,
            system_scope=self.payload.system,
            roles=tuple(r.name for r in self.roles),
            auth_token=token,
            audit_id=self.payload.audit_ids[0],
            application_credential_id=self.payload.app_cred_id,
            extra=self._context_extra(),
        )

    def _context_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.trust:
            extra["trust_id"] = self.trust.id
        if self.app_cred is not None and self.app_cred.access_rules:
            extra["access_rules"] = [dict(r) for r in self.app_cred.access_rules]
        return extra


def _audit_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")


class TokenManager:
    """Issues and validates tokens; also the pipeline's ``TokenValidator``."""

    def __init__(self, core: IdentityCore, formatter: TokenFormatter) -> None:
        self.core = core
        self.formatter = formatter
        self.policy = core.enforcer
        #: token -> ((identity revision, key stamp), when cached, data)
        self._cache: OrderedDict[str, tuple[tuple[int, int], float, TokenData]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_size = 20000
        self.trusts = TrustManager(core)

    # -- authentication -------------------------------------------------

    def authenticate(self, auth: dict[str, Any]) -> tuple[str, TokenData]:
        """Run ``POST /v3/auth/tokens``; returns the new token and its data."""
        identity = auth.get("identity")
        if not isinstance(identity, dict) or not isinstance(identity.get("methods"), list):
            raise BadRequest("'identity' with a list of 'methods' is required.")
        methods = identity["methods"]
        if not methods:
            raise BadRequest("At least one authentication method is required.")
        scope = auth.get("scope")
        now = utcnow()
        expires = now + timedelta(seconds=self.core.settings.identity.token_expiration)
        audit_ids: tuple[str, ...] = (_audit_id(),)
        app_cred: ApplicationCredential | None = None
        user_id: str | None = None
        trust_scope: TrustScope | None = None
        # A rescoped token carries the methods of the token it came from too.
        all_methods: list[str] = []
        for method in methods:
            if method not in ("password", "token", "application_credential"):
                raise Unauthorized(f"Authentication method {method!r} is not supported.")
            details = identity.get(method)
            if not isinstance(details, dict):
                raise BadRequest(f"'{method}' details are required.")
            if method == "password":
                found = self._password(details)
            elif method == "token":
                prior = self._token_method(details)
                all_methods.extend(prior.payload.methods)
                found = prior.user.id
                expires = min(expires, prior.payload.expires_at)
                audit_ids = (audit_ids[0], prior.payload.audit_ids[0])
                if prior.trust is not None:
                    if scope is not None and scope != _scope_of(prior):
                        raise Forbidden("A trust-scoped token cannot be rescoped.")
                    scope = None
                    trust_scope = prior.trust
                elif scope is None and prior.scoped:
                    scope = _scope_of(prior)
                if prior.payload.app_cred_id:
                    raise Forbidden("A token from an application credential cannot be rescoped.")
            else:
                app_cred = self._app_cred(details)
                found = app_cred.user_id
                if scope is not None:
                    raise InvalidScope(reason="Application credentials cannot request a scope.")
                scope = {"project": {"id": app_cred.project_id}}
                if app_cred.expires_at is not None:
                    expires = min(expires, app_cred.expires_at)
            if user_id is not None and found != user_id:
                raise Unauthorized("Authentication methods named different users.")
            user_id = found
            all_methods.append(method)
        assert user_id is not None
        if isinstance(scope, dict) and "OS-TRUST:trust" in scope:
            trust_scope, expires = self._trust_scope(user_id, scope, expires)
            scope = None
        if trust_scope is not None:
            # the trust's project; the trustor is the token's user when impersonating
            resolved: dict[str, Any] = {
                "project_id": trust_scope.project_id or None,
                "trust_id": trust_scope.id,
            }
            if trust_scope.impersonation:
                user_id = trust_scope.trustor_user_id
        else:
            resolved = self._resolve_scope(user_id, scope)
        payload = TokenPayload(
            user_id=user_id,
            methods=tuple(dict.fromkeys(all_methods)),
            expires_at=expires,
            issued_at=now,
            audit_ids=audit_ids,
            app_cred_id=app_cred.id if app_cred else None,
            **resolved,
        )
        data = self._build(payload)
        if (
            (trust_scope is not None and trust_scope.project_id)
            or (scope is not None and scope != "unscoped")
        ) and not data.roles:
            raise Unauthorized("The user has no role on the requested scope.")
        token = self.formatter.issue(payload)
        return token, data

    def _trust_scope(
        self, user_id: str, scope: dict[str, Any], expires: datetime
    ) -> tuple[TrustScope, datetime]:
        """Authenticate the trustee with a trust (one use spent); the token ends no
        later than the trust."""
        ref = scope["OS-TRUST:trust"]
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
            raise BadRequest("'OS-TRUST:trust' scope needs an 'id'.")
        trust_scope = self.trusts.consume(ref["id"], user_id)
        with self.core.read() as session:
            from onestack.identity.models import Trust

            trust = session.get(Trust, trust_scope.id)
            if trust is not None and trust.expires_at is not None:
                expires = min(expires, trust.expires_at)
        return trust_scope, expires

    def _find_user(self, session: Session, ref: dict[str, Any]) -> User | None:
        if ref.get("id"):
            return session.get(User, str(ref["id"]))
        name = ref.get("name")
        domain = ref.get("domain")
        if not name or not isinstance(domain, dict):
            raise BadRequest("A user is named by id, or by name and domain.")
        domain_id: str | None = (
            str(domain["id"])
            if domain.get("id")
            else session.scalar(select(Domain.id).where(Domain.name == domain.get("name")))
        )
        if domain_id is None:
            return None
        return session.scalar(select(User).where(User.name == name, User.domain_id == domain_id))

    def _password(self, details: dict[str, Any]) -> str:
        ref = details.get("user")
        if not isinstance(ref, dict) or not isinstance(ref.get("password"), str):
            raise BadRequest("'password' needs a 'user' with a 'password'.")
        with self.core.read() as session:
            user = self._find_user(session, ref)
            domain = session.get(Domain, user.domain_id) if user else None
        if not self.core.passwords.verify(user.password_hash if user else None, ref["password"]):
            raise AuthenticationFailed()
        assert user is not None
        if not user.enabled or domain is None or not domain.enabled:
            raise AuthenticationFailed()
        expires_at = user.password_expires_at
        if expires_at is not None and expires_at <= utcnow():
            raise AuthenticationFailed("The password is expired and needs to be changed.")
        return user.id

    def _token_method(self, details: dict[str, Any]) -> TokenData:
        token = details.get("id")
        if not isinstance(token, str):
            raise BadRequest("'token' needs an 'id'.")
        # An invalid, expired or revoked token answers 404 here, as in Keystone
        # (its token method looks the token up like ``GET /v3/auth/tokens``).
        return self.validate_token(token)

    def _app_cred(self, details: dict[str, Any]) -> ApplicationCredential:
        secret = details.get("secret")
        if not isinstance(secret, str):
            raise BadRequest("'application_credential' needs a 'secret'.")
        with self.core.read() as session:
            if details.get("id"):
                cred = session.get(ApplicationCredential, str(details["id"]))
            else:
                user_ref = details.get("user")
                if not isinstance(user_ref, dict) or not details.get("name"):
                    raise BadRequest(
                        "An application credential is named by id, or by name and user."
                    )
                user = self._find_user(session, user_ref)
                cred = (
                    session.scalar(
                        select(ApplicationCredential).where(
                            ApplicationCredential.user_id == user.id,
                            ApplicationCredential.name == details["name"],
                        )
                    )
                    if user
                    else None
                )
        if not self.core.passwords.verify(cred.secret_hash if cred else None, secret):
            raise AuthenticationFailed()
        assert cred is not None
        if cred.expires_at is not None and cred.expires_at <= utcnow():
            raise AuthenticationFailed()
        return cred

    def _resolve_scope(self, user_id: str, scope: Any) -> dict[str, Any]:
        if scope is None:
            with self.core.read() as session:
                user = session.get(User, user_id)
                default = user.default_project_id if user else None
                if default:
                    project = session.get(Project, default)
                    if (
                        project
                        and project.enabled
                        and effective_role_ids(session, user_id, project=project)
                    ):
                        return {"project_id": project.id}
            return {}
        if scope == "unscoped":
            return {}
        if not isinstance(scope, dict):
            raise BadRequest("'scope' must be an object.")
        with self.core.read() as session:
            if "project" in scope:
                ref = scope["project"]
                if not isinstance(ref, dict):
                    raise BadRequest("'project' scope must be an object.")
                if ref.get("id"):
                    project = session.get(Project, str(ref["id"]))
                else:
                    domain = ref.get("domain")
                    if not ref.get("name") or not isinstance(domain, dict):
                        raise BadRequest("A project is named by id, or by name and domain.")
                    domain_id = domain.get("id") or session.scalar(
                        select(Domain.id).where(Domain.name == domain.get("name"))
                    )
                    project = session.scalar(
                        select(Project).where(
                            Project.name == ref["name"], Project.domain_id == domain_id
                        )
                    )
                if project is None:
                    raise Unauthorized("The requested project could not be found.")
                if not project.enabled:
                    raise Unauthorized(f"Project {project.id} is disabled.")
                return {"project_id": project.id}
            if "domain" in scope:
                ref = scope["domain"]
                if not isinstance(ref, dict):
                    raise BadRequest("'domain' scope must be an object.")
                domain = (
                    session.get(Domain, str(ref["id"]))
                    if ref.get("id")
                    else session.scalar(select(Domain).where(Domain.name == ref.get("name")))
                )
                if domain is None:
                    raise Unauthorized("The requested domain could not be found.")
                if not domain.enabled:
                    raise Unauthorized(f"Domain {domain.id} is disabled.")
                return {"domain_id": domain.id}
            if "system" in scope:
                if scope["system"] != {"all": True}:
                    raise BadRequest("The system scope is {'all': true}.")
                return {"system": "all"}
        raise BadRequest("Unknown scope.")

    # -- validation -----------------------------------------------------

    def validate_token(self, token: str, *, allow_expired: bool = False) -> TokenData:
        """The data of a valid token; TokenNotFound (404) otherwise."""
        revision = self._generation()
        now = time.monotonic()
        ttl = self.core.settings.identity.token_cache_seconds
        with self._cache_lock:
            hit = self._cache.get(token)
        if hit is not None and hit[0] == revision and now - hit[1] < ttl:
            data = hit[2]
            if allow_expired or data.payload.expires_at > utcnow():
                return data
        payload = self.formatter.parse(token)
        if payload is None:
            raise TokenNotFound("Failed to validate token")
        if payload.expires_at <= utcnow():
            window = timedelta(seconds=self.core.settings.identity.allow_expired_window)
            if not allow_expired or payload.expires_at + window <= utcnow():
                raise TokenNotFound("The token has expired.")
        data = self._build(payload)
        if (payload.project_id or payload.domain_id or payload.system) and not data.roles:
            raise TokenNotFound("The token's user no longer has a role on its scope.")
        with self._cache_lock:
            self._cache[token] = (revision, now, data)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return data

    def _build(self, payload: TokenPayload) -> TokenData:
        with self.core.read() as session:
            if self._revoked(session, payload):
                raise TokenNotFound("The token has been revoked.")
            user = session.get(User, payload.user_id)
            if user is None or not user.enabled:
                raise TokenNotFound("The token's user is unknown or disabled.")
            user_domain = session.get(Domain, user.domain_id)
            if user_domain is None or not user_domain.enabled:
                raise TokenNotFound("The token's user domain is disabled.")
            project = project_domain = domain = app_cred = None
            trust: TrustScope | None = None
            role_ids: set[str] = set()
            if payload.trust_id:
                trust = self.trusts.validate(session, payload.trust_id)
                if trust is None:
                    raise TokenNotFound("The token's trust is deleted, expired or void.")
            if payload.project_id:
                project = session.get(Project, payload.project_id)
                if project is None or not project.enabled:
                    raise TokenNotFound("The token's project is unknown or disabled.")
                if any(not p.enabled for p in project_ancestors(session, project)):
                    raise TokenNotFound("A parent of the token's project is disabled.")
                project_domain = session.get(Domain, project.domain_id)
                if project_domain is None or not project_domain.enabled:
                    raise TokenNotFound("The token's project domain is disabled.")
                if trust is not None:
                    role_ids = set(trust.role_ids)
                else:
                    role_ids = effective_role_ids(session, user.id, project=project)
            elif payload.domain_id:
                domain = session.get(Domain, payload.domain_id)
                if domain is None or not domain.enabled:
                    raise TokenNotFound("The token's domain is unknown or disabled.")
                role_ids = effective_role_ids(session, user.id, domain_id=domain.id)
            elif payload.system:
                role_ids = effective_role_ids(session, user.id, system=True)
            if payload.app_cred_id:
                app_cred = session.get(ApplicationCredential, payload.app_cred_id)
                if app_cred is None:
                    raise TokenNotFound("The token's application credential was deleted.")
                allowed = {r["id"] for r in app_cred.roles}
                if not allowed <= role_ids:
                    raise TokenNotFound("The user lost a role of the application credential.")
                role_ids = allowed
            roles = tuple(
                RoleRef(r.id, r.name, r.domain_id) for r in roles_by_id(session, role_ids)
            )
            return TokenData(
                payload=payload,
                user=user,
                user_domain=user_domain,
                roles=roles,
                project=project,
                project_domain=project_domain,
                domain=domain,
                app_cred=app_cred,
                trust=trust,
            )

    @staticmethod
    def _revoked(session: Session, payload: TokenPayload) -> bool:
        matches = [
            RevocationEvent.audit_id.in_(payload.audit_ids),
            RevocationEvent.user_id == payload.user_id,
        ]
        if payload.project_id:
            matches.append(RevocationEvent.project_id == payload.project_id)
        if payload.domain_id:
            matches.append(RevocationEvent.domain_id == payload.domain_id)
        if payload.app_cred_id:
            matches.append(RevocationEvent.application_credential_id == payload.app_cred_id)
        events = session.scalars(select(RevocationEvent).where(or_(*matches)))
        for event in events:
            if event.audit_id and event.audit_id in payload.audit_ids:
                return True
            if payload.issued_at <= event.issued_before:
                return True
        return False

    def revoke_token(self, ctx: RequestContext, token: str) -> None:
        data = self.check(ctx, token, "identity:revoke_token")
        with self.core.write("revocation") as session:
            revoke(session, audit_id=data.payload.audit_ids[0])
        with self._cache_lock:
            self._cache.pop(token, None)

    def check(
        self, ctx: RequestContext, token: str, rule: str, allow_expired: bool = False
    ) -> TokenData:
        data = self.validate_token(token, allow_expired=allow_expired)
        self.policy.enforce(ctx, rule, {"target": {"token": {"user_id": data.user.id}}})
        return data

    async def check_async(
        self, ctx: RequestContext, token: str, rule: str, allow_expired: bool = False
    ) -> TokenData:
        """``check`` without a thread hop when the token is in the cache."""
        data = self._cached(token)
        if data is None:
            return await asyncio.to_thread(self.check, ctx, token, rule, allow_expired)
        self.policy.enforce(ctx, rule, {"target": {"token": {"user_id": data.user.id}}})
        return data

    # -- the pipeline's TokenValidator ----------------------------------

    async def validate(self, token: str, request_id: str) -> RequestContext:
        try:
            data = self._cached(token)
            if data is None:
                data = await asyncio.to_thread(self.validate_token, token)
        except TokenNotFound as exc:
            raise Unauthorized(exc.message) from None
        return data.context(request_id, token)

    def _generation(self) -> tuple[int, int]:
        """Cached validations hold only while identity data and the keys are unchanged."""
        return self.core.revision.value, self.formatter.keys.stamp()

    def _cached(self, token: str) -> TokenData | None:
        with self._cache_lock:
            hit = self._cache.get(token)
        if hit is None or hit[0] != self._generation():
            return None
        if time.monotonic() - hit[1] >= self.core.settings.identity.token_cache_seconds:
            return None
        if hit[2].payload.expires_at <= utcnow():
            return None
        return hit[2]


def _scope_of(data: TokenData) -> dict[str, Any]:
    if data.trust:
        return {"OS-TRUST:trust": {"id": data.trust.id}}
    if data.project:
        return {"project": {"id": data.project.id}}
    if data.domain:
        return {"domain": {"id": data.domain.id}}
    return {"system": {"all": True}}


def format_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
