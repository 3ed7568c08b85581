"""The users services act as (for example the orchestration engine, the trustee of
every stack's trust): one user per service in the ``service`` project with the
``service`` role, its password given by the service (kept in its secrets)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from onestack.common.db import utcnow
from onestack.identity.assignment import GLOBAL
from onestack.identity.core import DEFAULT_DOMAIN_ID, IdentityCore, new_id
from onestack.identity.models import Assignment, Project, Role, User


def _record(core: IdentityCore, name: str) -> Path:
    return core.settings.state_dir / "secrets" / f"{name}-service-password.hash"


def ensure_service_user(
    core: IdentityCore, name: str, password: str, roles: tuple[str, ...] = ("service",)
) -> str:
    """The id of the service user ``name`` with ``roles`` on the service project (created,
    or its password reset when it differs); idempotent.  The hash written last is
    remembered next to the secrets, so a start with an unchanged password costs no
    password hash."""
    digest = hashlib.sha256(password.encode()).hexdigest()
    record = _record(core, name)
    remembered = record.read_text().split() if record.is_file() else []
    with core.read() as session:
        user = session.scalar(
            select(User).where(User.name == name, User.domain_id == DEFAULT_DOMAIN_ID)
        )
        current = user.password_hash if user is not None else None
    unchanged = current is not None and remembered == [digest, current]
    hashed = None
    if not unchanged and not core.passwords.verify(current, password):
        hashed = core.passwords.hash(password)
    with core.write("user") as session:
        user = session.scalar(
            select(User).where(User.name == name, User.domain_id == DEFAULT_DOMAIN_ID)
        )
        project = session.scalar(
            select(Project).where(Project.name == "service", Project.domain_id == DEFAULT_DOMAIN_ID)
        )
        granted = list(
            session.scalars(select(Role).where(Role.name.in_(roles), Role.domain_id.is_(None)))
        )
        for missing in sorted(set(roles) - {r.name for r in granted}):
            # a role only services use (Swift's ResellerAdmin for the metering poller)
            role = Role(id=new_id(), name=missing, domain_id=None, domain_key=GLOBAL, options={})
            session.add(role)
            granted.append(role)
        if user is None:
            user = User(
                id=new_id(),
                name=name,
                domain_id=DEFAULT_DOMAIN_ID,
                enabled=True,
                default_project_id=project.id if project else None,
                description=f"The {name} service",
            )
            session.add(user)
        if hashed is not None:
            user.password_hash = hashed
            user.password_created_at = utcnow()
        session.flush()
        for role in granted if project is not None else []:
            assert project is not None
            key = ("UserProject", user.id, project.id, role.id, False)
            if session.get(Assignment, key) is None:
                session.add(
                    Assignment(
                        type="UserProject",
                        actor_id=user.id,
                        target_id=project.id,
                        role_id=role.id,
                        inherited=False,
                    )
                )
        user_id = user.id
        final = user.password_hash
    if final:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(f"{digest} {final}\n")
    return user_id
