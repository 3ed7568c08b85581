"""Application credentials and stored credentials (EC2 keys for the S3 API).

An application credential's secret is shown once, at creation, and kept
only as an argon2 hash.  Credential blobs are encrypted with their own
Fernet keys (``<state_dir>/credential-keys``); an EC2 credential's id is the
SHA-256 of its access key, so the S3 API can find it without decrypting
every blob.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select

from onestack.common import jsonbody
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Forbidden
from onestack.identity.assignment import effective_role_ids, roles_by_id
from onestack.identity.core import IdentityCore, new_id
from onestack.identity.exceptions import AccessRuleNotFound, Ec2CredentialExists, not_found
from onestack.identity.fernet import KeyRepository
from onestack.identity.models import AccessRule, ApplicationCredential, Credential, Role
from onestack.identity.resources import get_project, get_user, revoke


@dataclass(frozen=True)
class CreatedAppCred:
    credential: ApplicationCredential
    secret: str


@dataclass(frozen=True)
class Ec2Secret:
    access: str
    secret: str
    user_id: str
    project_id: str | None


def ec2_credential_id(access: str) -> str:
    return hashlib.sha256(access.encode()).hexdigest()


class CredentialManager:
    def __init__(self, core: IdentityCore, keys: KeyRepository) -> None:
        self.core = core
        self.policy = core.enforcer
        self.keys = keys

    # -- application credentials ----------------------------------------

    def create_app_cred(
        self, ctx: RequestContext, user_id: str, data: dict[str, Any]
    ) -> CreatedAppCred:
        self.policy.enforce(ctx, "identity:create_application_credential", {"user_id": user_id})
        if ctx.user_id != user_id:
            raise Forbidden("Application credentials can only be created for yourself.")
        if ctx.project_id is None:
            raise Forbidden("Creating an application credential needs a project-scoped token.")
        if ctx.application_credential_id:
            with self.core.read() as session:
                parent = session.get(ApplicationCredential, ctx.application_credential_id)
                if parent is None or not parent.unrestricted:
                    raise Forbidden(
                        "A restricted application credential cannot create application credentials."
                    )
        secret = data.get("secret") or secrets.token_urlsafe(64)
        expires_at: datetime | None = data.get("expires_at")
        if expires_at is not None and expires_at <= utcnow():
            raise BadRequest("expires_at must be in the future.")
        hashed = self.core.passwords.hash(secret)
        with self.core.write("application_credential") as session:
            get_user(session, user_id)
            project = get_project(session, ctx.project_id)
            held = effective_role_ids(session, user_id, project=project)
            wanted = data.get("roles")
            if wanted:
                roles = [self._find_role(session, r) for r in wanted]
                missing = [r.name for r in roles if r.id not in held]
                if missing:
                    raise Forbidden(
                        f"You do not hold the roles {', '.join(missing)} on the project."
                    )
            else:
                roles = [
                    r
                    for r in roles_by_id(session, ctx_role_ids(session, ctx.roles))
                    if r.id in held
                ]
            cred = ApplicationCredential(
                id=new_id(),
                name=data["name"],
                user_id=user_id,
                project_id=project.id,
                secret_hash=hashed,
                description=data.get("description"),
                expires_at=expires_at,
                unrestricted=bool(data.get("unrestricted", False)),
                roles=[{"id": r.id, "name": r.name, "domain_id": r.domain_id} for r in roles],
                access_rules=[
                    _rule_dict(self._access_rule(session, user_id, ref))
                    for ref in data.get("access_rules") or []
                ],
            )
            session.add(cred)
            session.flush()
        return CreatedAppCred(cred, secret)

    @staticmethod
    def _access_rule(session: Any, user_id: str, ref: dict[str, Any]) -> AccessRule:
        """The user's rule named by ``ref["id"]``, or the user's identical rule, or a new one."""
        if ref.get("id"):
            rule = session.get(AccessRule, ref["id"])
            if rule is None or rule.user_id != user_id:
                raise AccessRuleNotFound(id=ref["id"])
            return cast(AccessRule, rule)
        if not all(ref.get(k) for k in ("service", "method", "path")):
            raise BadRequest("An access rule needs an id, or a service, a method and a path.")
        rule = session.scalar(
            select(AccessRule).where(
                AccessRule.user_id == user_id,
                AccessRule.service == ref["service"],
                AccessRule.method == ref["method"],
                AccessRule.path == ref["path"],
            )
        )
        if rule is None:
            rule = AccessRule(
                id=new_id(),
                user_id=user_id,
                service=ref["service"],
                method=ref["method"],
                path=ref["path"],
            )
            session.add(rule)
            session.flush()
        return cast(AccessRule, rule)

    # -- access rules ---------------------------------------------------

    def list_access_rules(
        self, ctx: RequestContext, user_id: str, query: Sequence[tuple[str, str]]
    ) -> list[AccessRule]:
        self.policy.enforce(ctx, "identity:list_access_rules", {"user_id": user_id})
        params = dict(query)
        with self.core.read() as session:
            get_user(session, user_id)
            stmt = select(AccessRule).where(AccessRule.user_id == user_id)
            for key in ("service", "path", "method"):
                if key in params:
                    stmt = stmt.where(getattr(AccessRule, key) == params[key])
            return list(session.scalars(stmt.order_by(AccessRule.id)))

    def show_access_rule(self, ctx: RequestContext, user_id: str, rule_id: str) -> AccessRule:
        self.policy.enforce(ctx, "identity:get_access_rule", {"user_id": user_id})
        with self.core.read() as session:
            rule = session.get(AccessRule, rule_id)
            if rule is None or rule.user_id != user_id:
                raise AccessRuleNotFound(id=rule_id)
            return rule

    def delete_access_rule(self, ctx: RequestContext, user_id: str, rule_id: str) -> None:
        """Refused (403) while an application credential of the user uses the rule."""
        self.policy.enforce(ctx, "identity:delete_access_rule", {"user_id": user_id})
        with self.core.write("access_rule") as session:
            rule = session.get(AccessRule, rule_id)
            if rule is None or rule.user_id != user_id:
                raise AccessRuleNotFound(id=rule_id)
            creds = session.scalars(
                select(ApplicationCredential).where(ApplicationCredential.user_id == user_id)
            )
            if any(r.get("id") == rule_id for c in creds for r in c.access_rules or []):
                raise Forbidden("May not delete access rule in use")
            session.delete(rule)

    @staticmethod
    def _find_role(session: Any, ref: dict[str, Any]) -> Role:
        if not isinstance(ref, dict):
            raise BadRequest("Each role is an object with an id or a name.")
        if ref.get("id"):
            role = session.get(Role, ref["id"])
        else:
            role = session.scalar(
                select(Role).where(Role.name == ref.get("name"), Role.domain_id.is_(None))
            )
        if role is None:
            raise not_found("role", str(ref.get("id") or ref.get("name")))
        return role

    def list_app_creds(
        self, ctx: RequestContext, user_id: str, query: Sequence[tuple[str, str]]
    ) -> list[ApplicationCredential]:
        self.policy.enforce(ctx, "identity:list_application_credentials", {"user_id": user_id})
        params = dict(query)
        with self.core.read() as session:
            get_user(session, user_id)
            stmt = select(ApplicationCredential).where(ApplicationCredential.user_id == user_id)
            if "name" in params:
                stmt = stmt.where(ApplicationCredential.name == params["name"])
            return list(session.scalars(stmt.order_by(ApplicationCredential.name)))

    def show_app_cred(
        self, ctx: RequestContext, user_id: str, cred_id: str
    ) -> ApplicationCredential:
        self.policy.enforce(ctx, "identity:get_application_credential", {"user_id": user_id})
        with self.core.read() as session:
            cred = session.get(ApplicationCredential, cred_id)
            if cred is None or cred.user_id != user_id:
                raise not_found("application credential", cred_id)
            return cred

    def delete_app_cred(self, ctx: RequestContext, user_id: str, cred_id: str) -> None:
        self.policy.enforce(ctx, "identity:delete_application_credential", {"user_id": user_id})
        with self.core.write("application_credential") as session:
            cred = session.get(ApplicationCredential, cred_id)
            if cred is None or cred.user_id != user_id:
                raise not_found("application credential", cred_id)
            revoke(session, application_credential_id=cred.id)
            session.delete(cred)

    # -- credentials ----------------------------------------------------

    def _encrypt(self, blob: str) -> str:
        return self.keys.fernet().encrypt(blob.encode()).decode()

    def decrypt(self, cred: Credential) -> str:
        return self.keys.fernet().decrypt(cred.encrypted_blob.encode()).decode()

    def list_credentials(
        self, ctx: RequestContext, query: Sequence[tuple[str, str]]
    ) -> list[Credential]:
        params = dict(query)
        self.policy.enforce(
            ctx,
            "identity:list_credentials",
            {"target": {"credential": {"user_id": params.get("user_id", ctx.user_id)}}},
        )
        with self.core.read() as session:
            stmt = select(Credential)
            for key in ("user_id", "type"):
                if key in params:
                    stmt = stmt.where(getattr(Credential, key) == params[key])
            creds = list(session.scalars(stmt.order_by(Credential.id)))
        if not ctx.is_admin and ctx.system_scope != "all":
            creds = [c for c in creds if c.user_id == ctx.user_id]
        return creds

    def show_credential(self, ctx: RequestContext, cred_id: str) -> Credential:
        with self.core.read() as session:
            cred = session.get(Credential, cred_id)
        if cred is None:
            raise not_found("credential", cred_id)
        self.policy.enforce(
            ctx, "identity:get_credential", {"target": {"credential": {"user_id": cred.user_id}}}
        )
        return cred

    def create_credential(self, ctx: RequestContext, data: dict[str, Any]) -> Credential:
        self.policy.enforce(
            ctx,
            "identity:create_credential",
            {"target": {"credential": {"user_id": data["user_id"]}}},
        )
        blob, cred_id, key_hash = self._check_blob(
            data["type"], data["blob"], data.get("project_id")
        )
        with self.core.write("credential", "id") as session:
            get_user(session, data["user_id"])
            if data.get("project_id"):
                get_project(session, data["project_id"])
            if key_hash is not None and _ec2_by_hash(session, key_hash) is not None:
                raise Ec2CredentialExists()
            cred = Credential(
                id=cred_id or new_id(),
                user_id=data["user_id"],
                project_id=data.get("project_id"),
                type=data["type"],
                encrypted_blob=self._encrypt(blob),
                key_hash=key_hash,
            )
            session.add(cred)
            session.flush()
        return cred

    @staticmethod
    def _check_blob(
        kind: str, blob: str, project_id: str | None
    ) -> tuple[str, str | None, str | None]:
        if kind != "ec2":
            return blob, None, None
        try:
            doc = jsonbody.loads(blob)
            access = doc["access"]
        except (jsonbody.MalformedBody, KeyError, TypeError):
            raise BadRequest(
                "An ec2 credential's blob is JSON with 'access' and 'secret'."
            ) from None
        if not project_id:
            raise BadRequest("An ec2 credential needs a project_id.")
        key_hash = ec2_credential_id(str(access))
        return blob, key_hash, key_hash

    def update_credential(
        self, ctx: RequestContext, cred_id: str, data: dict[str, Any]
    ) -> Credential:
        with self.core.write("credential") as session:
            cred = session.get(Credential, cred_id)
            if cred is None:
                raise not_found("credential", cred_id)
            self.policy.enforce(
                ctx,
                "identity:update_credential",
                {"target": {"credential": {"user_id": cred.user_id}}},
            )
            if "user_id" in data:
                get_user(session, data["user_id"])
                cred.user_id = data["user_id"]
            if "project_id" in data:
                cred.project_id = data["project_id"]
            if "type" in data:
                cred.type = data["type"]
            if "blob" in data:
                blob, _, key_hash = self._check_blob(cred.type, data["blob"], cred.project_id)
                # The id stays (Keystone derives it from the first access key
                # only); look-ups by access key go through key_hash.
                if (
                    key_hash is not None
                    and key_hash != cred.key_hash
                    and _ec2_by_hash(session, key_hash) is not None
                ):
                    raise Ec2CredentialExists()
                cred.key_hash = key_hash
                cred.encrypted_blob = self._encrypt(blob)
            session.flush()
        return cred

    def delete_credential(self, ctx: RequestContext, cred_id: str) -> None:
        with self.core.write("credential") as session:
            cred = session.get(Credential, cred_id)
            if cred is None:
                raise not_found("credential", cred_id)
            self.policy.enforce(
                ctx,
                "identity:delete_credential",
                {"target": {"credential": {"user_id": cred.user_id}}},
            )
            session.delete(cred)

    # -- OS-EC2 ---------------------------------------------------------

    def create_ec2(self, ctx: RequestContext, user_id: str, project_id: str) -> Ec2Secret:
        self.policy.enforce(ctx, "identity:ec2_create_credential", {"user_id": user_id})
        access, secret = new_id(), new_id()
        with self.core.write("credential") as session:
            get_user(session, user_id)
            project = get_project(session, project_id)
            if not ctx.is_admin and not effective_role_ids(session, user_id, project=project):
                raise Forbidden(f"User {user_id} has no role on project {project_id}.")
            blob = json.dumps({"access": access, "secret": secret, "trust_id": None})
            session.add(
                Credential(
                    id=ec2_credential_id(access),
                    user_id=user_id,
                    project_id=project_id,
                    type="ec2",
                    encrypted_blob=self._encrypt(blob),
                    key_hash=ec2_credential_id(access),
                )
            )
        return Ec2Secret(access, secret, user_id, project_id)

    def list_ec2(self, ctx: RequestContext, user_id: str) -> list[Ec2Secret]:
        self.policy.enforce(ctx, "identity:ec2_list_credentials", {"user_id": user_id})
        with self.core.read() as session:
            get_user(session, user_id)
            creds = list(
                session.scalars(
                    select(Credential).where(
                        Credential.user_id == user_id, Credential.type == "ec2"
                    )
                )
            )
        return [self._ec2(c) for c in creds]

    def show_ec2(self, ctx: RequestContext, user_id: str, access: str) -> Ec2Secret:
        with self.core.read() as session:
            cred = _ec2_by_hash(session, ec2_credential_id(access))
        if cred is None or cred.user_id != user_id:
            raise not_found("credential", access)
        self.policy.enforce(
            ctx,
            "identity:ec2_get_credential",
            {"target": {"credential": {"user_id": cred.user_id}}},
        )
        return self._ec2(cred)

    def delete_ec2(self, ctx: RequestContext, user_id: str, access: str) -> None:
        with self.core.write("credential") as session:
            cred = _ec2_by_hash(session, ec2_credential_id(access))
            if cred is None or cred.user_id != user_id:
                raise not_found("credential", access)
            self.policy.enforce(
                ctx,
                "identity:ec2_delete_credential",
                {"target": {"credential": {"user_id": cred.user_id}}},
            )
            session.delete(cred)

    def lookup_ec2(self, access: str) -> Ec2Secret | None:
        """The secret behind an access key (for signature checks by the S3 API)."""
        with self.core.read() as session:
            cred = _ec2_by_hash(session, ec2_credential_id(access))
        if cred is None:
            return None
        return self._ec2(cred)

    def _ec2(self, cred: Credential) -> Ec2Secret:
        doc = json.loads(self.decrypt(cred))
        return Ec2Secret(doc["access"], doc["secret"], cred.user_id, cred.project_id)


def _ec2_by_hash(session: Any, key_hash: str) -> Credential | None:
    """The ec2 credential whose access key hashes to ``key_hash``."""
    return session.scalars(
        select(Credential).where(Credential.key_hash == key_hash, Credential.type == "ec2")
    ).first()


def _rule_dict(rule: AccessRule) -> dict[str, str]:
    return {"id": rule.id, "service": rule.service, "method": rule.method, "path": rule.path}


def ctx_role_ids(session: Any, names: Sequence[str]) -> list[str]:
    if not names:
        return []
    return list(
        session.scalars(select(Role.id).where(Role.name.in_(list(names)), Role.domain_id.is_(None)))
    )
