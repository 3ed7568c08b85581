"""First-start bootstrap: the default domain, roles (Keystone's admin, manager,
member, reader and service, and Swift's ResellerAdmin), admin and demo, the catalog,
and the services' own users.

A service user (Nova's ``nova``, Heat's ``heat``, ...) is what a service's agents,
pollers and engines call other services' APIs as: each plugin declares its
``onestack.common.keystone_client.ServiceUser`` (a name and its roles on the
``service`` project); its password is generated once and kept in the state
directory (``secrets/<name>-password``, 0600) for the service to read.  This is
the only place service users are made.

Idempotent: every start runs it, creating only what is missing and keeping
the catalog's URLs in step with the configured host and ports.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.db import utcnow
from onestack.common.keystone_client import ServiceUser, password_file
from onestack.config import Settings
from onestack.identity.assignment import GLOBAL
from onestack.identity.core import DEFAULT_DOMAIN_ID, IdentityCore, new_id
from onestack.identity.manager import IdentityManager
from onestack.identity.models import (
    Assignment,
    Domain,
    Endpoint,
    ImpliedRole,
    Project,
    Region,
    Role,
    Service,
    User,
)

#: the roles ``keystone-manage bootstrap`` makes (2023.2 and later), and the
#: ``ResellerAdmin`` role that a deployment with Swift has (account quotas, reseller
#: requests); only the first four are immutable
DEFAULT_ROLES = ("admin", "manager", "member", "reader", "service", "ResellerAdmin")
IMMUTABLE_ROLES = ("admin", "manager", "member", "reader")
#: the chain of implied roles: admin -> manager -> member -> reader
IMPLIED_ROLES = (("admin", "manager"), ("manager", "member"), ("member", "reader"))


@dataclass(frozen=True)
class CatalogEntry:
    type: str
    name: str
    url: str
    description: str = ""


@dataclass(frozen=True)
class BootstrapResult:
    admin_password: str
    demo_password: str
    admin_project_id: str
    demo_project_id: str


def _secret(path: Path, given: str | None) -> str:
    """The password from the settings, else the one saved in the state dir, else a new
    one; whatever is used is saved (0600) so that later starts and clouds.yaml agree."""
    saved = path.read_text().strip() if path.is_file() else None
    value = given or saved or secrets.token_urlsafe(18)
    if value != saved:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
    return value


def _hash_file(state_dir: Path, name: str) -> Path:
    return state_dir / "secrets" / f"{name}-password.hash"


def _digest(password: str) -> str:
    # the plaintext sits beside it (0600) in the same directory: this hides nothing more
    return hashlib.sha256(password.encode()).hexdigest()


def _needs_hash(
    state_dir: Path,
    user: User | None,
    name: str,
    password: str,
    given: str | None,
    core: IdentityCore,
) -> bool:
    """Hash on creation, or when the settings name a password the user does not have.

    A password changed through the API is kept unless the settings give one.  The hash
    last written is remembered next to the secret, so an unchanged password costs no
    argon2 verification at start.
    """
    if user is None:
        return True
    if not given:
        return False
    recorded = _hash_file(state_dir, name)
    if recorded.is_file() and recorded.read_text().split() == [
        _digest(password),
        user.password_hash,
    ]:
        return False
    return not core.passwords.verify(user.password_hash, password)


def bootstrap(
    identity: IdentityManager,
    settings: Settings,
    catalog: Sequence[CatalogEntry],
    service_users: Sequence[ServiceUser] = (),
) -> BootstrapResult:
    identity.initialize_keys()
    admin_password = _secret(
        settings.state_dir / "secrets" / "admin-password", settings.admin_password
    )
    demo_password = _secret(
        settings.state_dir / "secrets" / "demo-password", settings.demo_password
    )
    core = identity.core
    wanted = {
        "admin": (admin_password, settings.admin_password),
        "demo": (demo_password, settings.demo_password),
    }
    for service_user in service_users:
        name = service_user.name
        path = password_file(settings.state_dir, name)
        existed = path.is_file()
        password = _secret(path, None)
        # a password made now (its file was lost) must reach the user's record
        wanted[name] = (password, None if existed else password)
    with core.db.reader() as session:
        users = {
            u.name: u
            for u in session.scalars(
                select(User).where(User.domain_id == DEFAULT_DOMAIN_ID, User.name.in_(wanted))
            )
        }
    to_hash = [
        name
        for name, (password, given) in wanted.items()
        if _needs_hash(settings.state_dir, users.get(name), name, password, given, core)
    ]
    # argon2 releases the GIL: hash them at once
    with ThreadPoolExecutor(max_workers=max(len(to_hash), 1)) as pool:
        hashes = dict(
            zip(
                to_hash, pool.map(lambda n: core.passwords.hash(wanted[n][0]), to_hash), strict=True
            )
        )
    with core.write("bootstrap") as session:
        if session.get(Domain, DEFAULT_DOMAIN_ID) is None:
            session.add(
                Domain(
                    id=DEFAULT_DOMAIN_ID,
                    name="Default",
                    description="The default domain",
                    enabled=True,
                )
            )
        wanted_roles = set(DEFAULT_ROLES)
        wanted_roles.update(role for user in service_users for role in user.roles)
        roles = {name: _role(session, name) for name in sorted(wanted_roles)}
        session.flush()
        for prior, implied in IMPLIED_ROLES:
            key = (roles[prior].id, roles[implied].id)
            if session.get(ImpliedRole, key) is None:
                session.add(ImpliedRole(prior_role_id=key[0], implied_role_id=key[1]))
        # Keystone 2023.2 put manager between admin and member: admin implies member
        # through manager now, not directly
        direct = session.get(ImpliedRole, (roles["admin"].id, roles["member"].id))
        if direct is not None:
            session.delete(direct)
        admin_project = _project(session, "admin", "Bootstrap project for the administrator")
        demo_project = _project(session, "demo", "Project of the demo user")
        service_project = _project(session, "service", "Project of the services' own users")
        session.flush()
        admin = _user(session, "admin", admin_project.id, hashes.get("admin"))
        demo = _user(session, "demo", demo_project.id, hashes.get("demo"))
        services = [
            (_user(session, u.name, service_project.id, hashes.get(u.name)), u.roles)
            for u in service_users
        ]
        session.flush()
        _grant(session, "UserProject", admin.id, admin_project.id, roles["admin"].id)
        _grant(session, "UserSystem", admin.id, "system", roles["admin"].id)
        _grant(session, "UserProject", demo.id, demo_project.id, roles["member"].id)
        for service_record, granted in services:
            for role in granted:
                _grant(
                    session, "UserProject", service_record.id, service_project.id, roles[role].id
                )
        if session.get(Region, settings.region) is None:
            session.add(Region(id=settings.region, description=""))
        session.flush()
        for entry in catalog:
            _service(session, entry, settings.region)
    for name, hashed in hashes.items():
        record = f"{_digest(wanted[name][0])} {hashed}\n"
        _hash_file(settings.state_dir, name).write_text(record)
    return BootstrapResult(admin_password, demo_password, admin_project.id, demo_project.id)


def _role(session: Session, name: str) -> Role:
    role = session.scalar(select(Role).where(Role.name == name, Role.domain_key == GLOBAL))
    if role is None:
        role = Role(
            id=new_id(),
            name=name,
            domain_id=None,
            domain_key=GLOBAL,
            options={"immutable": True} if name in IMMUTABLE_ROLES else {},
        )
        session.add(role)
    return role


def _project(session: Session, name: str, description: str) -> Project:
    project = session.scalar(
        select(Project).where(Project.name == name, Project.domain_id == DEFAULT_DOMAIN_ID)
    )
    if project is None:
        project = Project(
            id=new_id(),
            name=name,
            domain_id=DEFAULT_DOMAIN_ID,
            parent_id=DEFAULT_DOMAIN_ID,
            description=description,
            enabled=True,
        )
        session.add(project)
    return project


def _user(session: Session, name: str, project_id: str, password_hash: str | None) -> User:
    user = session.scalar(
        select(User).where(User.name == name, User.domain_id == DEFAULT_DOMAIN_ID)
    )
    if user is None:
        user = User(
            id=new_id(),
            name=name,
            domain_id=DEFAULT_DOMAIN_ID,
            enabled=True,
            default_project_id=project_id,
        )
        session.add(user)
    if password_hash:
        user.password_hash = password_hash
        user.password_created_at = utcnow()
    return user


def _grant(session: Session, kind: str, actor: str, target: str, role_id: str) -> None:
    key = (kind, actor, target, role_id, False)
    if session.get(Assignment, key) is None:
        session.add(
            Assignment(
                type=kind, actor_id=actor, target_id=target, role_id=role_id, inherited=False
            )
        )


def _service(session: Session, entry: CatalogEntry, region: str) -> None:
    service = session.scalar(select(Service).where(Service.type == entry.type))
    if service is None:
        service = Service(
            id=new_id(),
            type=entry.type,
            name=entry.name,
            description=entry.description,
            enabled=True,
        )
        session.add(service)
        session.flush()
    existing = {
        e.interface: e
        for e in session.scalars(
            select(Endpoint).where(Endpoint.service_id == service.id, Endpoint.region_id == region)
        )
    }
    for interface in ("public", "internal", "admin"):
        endpoint = existing.get(interface)
        if endpoint is None:
            session.add(
                Endpoint(
                    id=new_id(),
                    service_id=service.id,
                    interface=interface,
                    url=entry.url,
                    region_id=region,
                    enabled=True,
                )
            )
        elif endpoint.url != entry.url:
            endpoint.url = entry.url
