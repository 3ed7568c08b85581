"""Domains, projects, users and groups: the identity resources.

Every public method takes the request context first, checks policy, and runs
in one transaction.  Deleting a resource also removes its role assignments
and revokes the tokens scoped to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Forbidden
from onestack.common.pagination import apply_filters, parse_bool
from onestack.identity.core import DEFAULT_DOMAIN_ID, IdentityCore, get_or_404, new_id
from onestack.identity.exceptions import (
    DomainNotEmpty,
    ProjectHasChildren,
    not_found,
)
from onestack.identity.models import (
    ApplicationCredential,
    Assignment,
    Credential,
    Domain,
    Group,
    GroupMembership,
    Project,
    RevocationEvent,
    User,
)

Query = Sequence[tuple[str, str]]


def get_domain(session: Session, ref: str) -> Domain:
    return get_or_404(session, Domain, "domain", ref)


def find_domain(session: Session, *, id: str | None = None, name: str | None = None) -> Domain:
    if id:
        return get_domain(session, id)
    domain = session.scalar(select(Domain).where(Domain.name == name))
    if domain is None:
        raise not_found("domain", name or "")
    return domain


def get_project(session: Session, ref: str) -> Project:
    return get_or_404(session, Project, "project", ref)


def get_user(session: Session, ref: str) -> User:
    return get_or_404(session, User, "user", ref)


def get_group(session: Session, ref: str) -> Group:
    return get_or_404(session, Group, "group", ref)


def project_ancestors(session: Session, project: Project) -> list[Project]:
    """The project's parents, nearest first (never the domain)."""
    chain: list[Project] = []
    seen = {project.id}
    parent_id = project.parent_id
    while parent_id and parent_id != project.domain_id and parent_id not in seen:
        parent = session.get(Project, parent_id)
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent.id)
        parent_id = parent.parent_id
    return chain


def revoke(session: Session, **match: Any) -> None:
    """Record that tokens matching ``match`` and issued until now are revoked."""
    session.add(RevocationEvent(issued_before=utcnow(), **match))


_EXTRA_EXCLUDED = {"id", "links"}


def split_extra(
    data: dict[str, Any], known: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Known attributes, and everything else (kept as Keystone's "extra")."""
    fields = {k: v for k, v in data.items() if k in known}
    extra = {k: v for k, v in data.items() if k not in known and k not in _EXTRA_EXCLUDED}
    return fields, extra


@dataclass(frozen=True)
class DomainProject:
    """A domain seen through ``/v3/projects`` (a project acting as a domain,
    ``is_domain: true``): Keystone keeps domains as such projects; onestack keeps them
    as domains and shows them this way."""

    id: str
    name: str
    description: str | None
    enabled: bool
    extra: dict[str, Any] = field(default_factory=dict)
    domain_id: None = None
    parent_id: None = None
    is_domain: bool = True
    tags: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


def as_project(domain: Domain) -> DomainProject:
    return DomainProject(
        id=domain.id,
        name=domain.name,
        description=domain.description,
        enabled=domain.enabled,
        extra=dict(domain.extra or {}),
    )


class ResourceManager:
    def __init__(self, core: IdentityCore) -> None:
        self.core = core

    @property
    def policy(self) -> Any:
        return self.core.enforcer

    # -- domains --------------------------------------------------------

    def list_domains(self, ctx: RequestContext, query: Query) -> list[Domain]:
        self.policy.enforce(ctx, "identity:list_domains", {})
        with self.core.read() as session:
            stmt = apply_filters(
                select(Domain),
                query,
                {"name": Domain.name, "enabled": Domain.enabled},
                booleans=("enabled",),
            )
            return list(session.scalars(stmt.order_by(Domain.name)))

    def show_domain(self, ctx: RequestContext, domain_id: str) -> Domain:
        with self.core.read() as session:
            domain = get_domain(session, domain_id)
        self.policy.enforce(ctx, "identity:get_domain", {"target": {"domain": {"id": domain.id}}})
        return domain

    def create_domain(self, ctx: RequestContext, data: dict[str, Any]) -> Domain:
        self.policy.enforce(ctx, "identity:create_domain", {})
        fields, extra = split_extra(
            data, ("name", "description", "enabled", "options", "explicit_domain_id")
        )
        with self.core.write("domain") as session:
            domain = Domain(
                id=fields.get("explicit_domain_id") or new_id(),
                name=fields["name"],
                description=fields.get("description"),
                enabled=fields.get("enabled", True),
                options=fields.get("options") or {},
                extra=extra,
            )
            session.add(domain)
            session.flush()
        return domain

    def update_domain(self, ctx: RequestContext, domain_id: str, data: dict[str, Any]) -> Domain:
        self.policy.enforce(
            ctx, "identity:update_domain", {"target": {"domain": {"id": domain_id}}}
        )
        fields, extra = split_extra(data, ("name", "description", "enabled", "options"))
        with self.core.write("domain") as session:
            domain = get_domain(session, domain_id)
            if domain.id == DEFAULT_DOMAIN_ID and fields.get("enabled") is False:
                raise Forbidden("The default domain cannot be disabled.")
            for key, value in fields.items():
                setattr(domain, key, value)
            if extra:
                domain.extra = {**domain.extra, **extra}
            if fields.get("enabled") is False:
                revoke(session, domain_id=domain.id)
            session.flush()
        return domain

    def delete_domain(self, ctx: RequestContext, domain_id: str) -> None:
        self.policy.enforce(
            ctx, "identity:delete_domain", {"target": {"domain": {"id": domain_id}}}
        )
        with self.core.write("domain") as session:
            domain = get_domain(session, domain_id)
            if domain.enabled:
                raise DomainNotEmpty()
            if domain.id == DEFAULT_DOMAIN_ID:
                raise Forbidden("The default domain cannot be deleted.")
            projects = list(
                session.scalars(select(Project.id).where(Project.domain_id == domain.id))
            )
            users = list(session.scalars(select(User.id).where(User.domain_id == domain.id)))
            groups = list(session.scalars(select(Group.id).where(Group.domain_id == domain.id)))
            for project_id in projects:
                self._purge_project(session, project_id)
            for user_id in users:
                self._purge_user(session, user_id)
            for group_id in groups:
                self._purge_group(session, group_id)
            session.execute(delete(Assignment).where(Assignment.target_id == domain.id))
            session.execute(delete(Project).where(Project.domain_id == domain.id))
            session.execute(delete(User).where(User.domain_id == domain.id))
            session.execute(delete(Group).where(Group.domain_id == domain.id))
            revoke(session, domain_id=domain.id)
            session.delete(domain)

    # -- projects -------------------------------------------------------

    def list_projects(self, ctx: RequestContext, query: Query) -> list[Project | DomainProject]:
        """Projects; with ``is_domain=true``, the domains as projects (Keystone lists only
        the projects that are not domains unless asked)."""
        params = dict(query)
        if "is_domain" in params and parse_bool(params["is_domain"], "is_domain"):
            wanted = [(k, v) for k, v in query if k in ("name", "enabled")]
            return [as_project(d) for d in self.list_domains(ctx, wanted)]
        domain_filter = params.get("domain_id") or ctx.domain_id
        self.policy.enforce(ctx, "identity:list_projects", {"target": {"domain_id": domain_filter}})
        if not ctx.is_admin and ctx.domain_id and "domain_id" not in params:
            query = [*query, ("domain_id", ctx.domain_id)]
        with self.core.read() as session:
            stmt = apply_filters(
                select(Project),
                query,
                {
                    "name": Project.name,
                    "domain_id": Project.domain_id,
                    "parent_id": Project.parent_id,
                    "enabled": Project.enabled,
                },
                booleans=("enabled",),
            )
            projects = list(session.scalars(stmt.order_by(Project.name)))
        return list(_filter_tags(projects, params))

    def show_project(self, ctx: RequestContext, project_id: str) -> Project | DomainProject:
        with self.core.read() as session:
            if session.get(Project, project_id) is None and session.get(Domain, project_id):
                return as_project(self.show_domain(ctx, project_id))
            project = get_project(session, project_id)
        self.policy.enforce(
            ctx, "identity:get_project", {"target": {"project": _project_target(project)}}
        )
        return project

    def project_parents(self, project: Project | DomainProject) -> list[Project]:
        if isinstance(project, DomainProject):
            return []  # a domain is the top of its hierarchy
        with self.core.read() as session:
            return project_ancestors(session, project)

    def project_children(self, project: Project | DomainProject) -> list[Project]:
        with self.core.read() as session:
            found: list[Project] = []
            frontier = [project.id]
            while frontier:
                rows = list(session.scalars(select(Project).where(Project.parent_id.in_(frontier))))
                rows = [r for r in rows if r.id != project.id]
                found.extend(rows)
                frontier = [r.id for r in rows]
            return found

    def _create_domain_project(
        self, ctx: RequestContext, fields: dict[str, Any], extra: dict[str, Any]
    ) -> DomainProject:
        """``is_domain: true``: a new domain, shown as a project.  As in Keystone it has
        neither a domain nor a parent."""
        for key in ("domain_id", "parent_id"):
            if fields.get(key) is not None:
                raise BadRequest(f"A project acting as a domain cannot have a {key}.")
        if fields.get("tags"):
            raise BadRequest("A project acting as a domain cannot have tags.")
        data: dict[str, Any] = {
            k: fields[k] for k in ("name", "description", "enabled") if k in fields
        }
        return as_project(self.create_domain(ctx, {**data, **extra}))

    def create_project(self, ctx: RequestContext, data: dict[str, Any]) -> Project | DomainProject:
        fields, extra = split_extra(
            data,
            (
                "name",
                "description",
                "enabled",
                "domain_id",
                "parent_id",
                "is_domain",
                "tags",
                "options",
            ),
        )
        if fields.get("is_domain"):
            return self._create_domain_project(ctx, fields, extra)
        with self.core.write("project") as session:
            parent: Project | None = None
            if fields.get("parent_id"):
                parent_id = fields["parent_id"]
                parent = session.get(Project, parent_id)
                if parent is None:
                    if session.get(Domain, parent_id) is None:
                        raise BadRequest(f"Parent project {parent_id} could not be found.")
                    fields.setdefault("domain_id", parent_id)
            domain_id = (
                fields.get("domain_id")
                or (parent.domain_id if parent else None)
                or ctx.domain_id
                or ctx.project_domain_id
                or DEFAULT_DOMAIN_ID
            )
            if parent is not None and parent.domain_id != domain_id:
                raise BadRequest("A project must be in the same domain as its parent.")
            self.policy.enforce(
                ctx, "identity:create_project", {"target": {"project": {"domain_id": domain_id}}}
            )
            if session.get(Domain, domain_id) is None:
                raise BadRequest(f"Domain {domain_id} could not be found.")
            tags = _validate_tags(fields.get("tags") or [])
            project = Project(
                id=new_id(),
                name=fields["name"],
                domain_id=domain_id,
                parent_id=parent.id if parent else domain_id,
                description=fields.get("description") or "",
                enabled=fields.get("enabled", True),
                tags=tags,
                options=fields.get("options") or {},
                extra=extra,
            )
            session.add(project)
            session.flush()
        return project

    def _is_domain(self, project_id: str) -> bool:
        with self.core.read() as session:
            return (
                session.get(Project, project_id) is None
                and session.get(Domain, project_id) is not None
            )

    def update_project(
        self, ctx: RequestContext, project_id: str, data: dict[str, Any]
    ) -> Project | DomainProject:
        fields, extra = split_extra(
            data,
            (
                "name",
                "description",
                "enabled",
                "tags",
                "options",
                "domain_id",
                "parent_id",
                "is_domain",
            ),
        )
        if self._is_domain(project_id):
            if any(key in fields for key in ("domain_id", "parent_id", "tags")) or (
                fields.get("is_domain", True) is not True
            ):
                raise BadRequest("Only the name, description and enabled of a project acting "
                                 "as a domain can be updated.")  # fmt: skip
            changes: dict[str, Any] = {
                k: fields[k] for k in ("name", "description", "enabled") if k in fields
            }
            return as_project(self.update_domain(ctx, project_id, {**changes, **extra}))
        with self.core.write("project") as session:
            project = get_project(session, project_id)
            self.policy.enforce(
                ctx, "identity:update_project", {"target": {"project": _project_target(project)}}
            )
            for key in ("domain_id", "parent_id", "is_domain"):
                if key in fields and fields[key] != getattr(project, key, False):
                    raise BadRequest(f"Updating {key} of a project is not allowed.")
            for key in ("name", "description", "enabled", "options"):
                if key in fields:
                    setattr(project, key, fields[key])
            if "tags" in fields:
                project.tags = _validate_tags(fields["tags"] or [])
            if extra:
                project.extra = {**project.extra, **extra}
            if fields.get("enabled") is False:
                revoke(session, project_id=project.id)
            session.flush()
        return project

    def delete_project(self, ctx: RequestContext, project_id: str) -> None:
        if self._is_domain(project_id):
            self.delete_domain(ctx, project_id)
            return
        with self.core.write("project") as session:
            project = get_project(session, project_id)
            self.policy.enforce(
                ctx, "identity:delete_project", {"target": {"project": _project_target(project)}}
            )
            child = session.scalar(select(Project.id).where(Project.parent_id == project.id))
            if child:
                raise ProjectHasChildren(id=project.id)
            self._purge_project(session, project.id)
            session.delete(project)

    def _purge_project(self, session: Session, project_id: str) -> None:
        session.execute(delete(Assignment).where(Assignment.target_id == project_id))
        session.execute(
            delete(ApplicationCredential).where(ApplicationCredential.project_id == project_id)
        )
        session.execute(delete(Credential).where(Credential.project_id == project_id))
        revoke(session, project_id=project_id)

    def project_tags(self, ctx: RequestContext, project_id: str) -> list[str]:
        with self.core.read() as session:
            project = get_project(session, project_id)
        self.policy.enforce(
            ctx, "identity:list_project_tags", {"target": {"project": _project_target(project)}}
        )
        return list(project.tags)

    def check_project_tag(self, ctx: RequestContext, project_id: str, tag: str) -> None:
        """Nothing when the project has ``tag``; Keystone's 404 otherwise."""
        if tag not in self.project_tags(ctx, project_id):
            raise not_found("tag", tag)

    def set_project_tags(
        self, ctx: RequestContext, project_id: str, change: str, tags: Sequence[str]
    ) -> list[str]:
        """``change`` is "replace", "add" or "remove" (the tag routes)."""
        with self.core.write("project") as session:
            project = get_project(session, project_id)
            self.policy.enforce(
                ctx,
                "identity:update_project_tags",
                {"target": {"project": _project_target(project)}},
            )
            current = list(project.tags)
            if change == "replace":
                current = _validate_tags(list(tags))
            elif change == "add":
                for tag in _validate_tags(list(tags)):
                    if tag not in current:
                        current.append(tag)
                _validate_tags(current)
            else:
                for tag in tags:
                    if tag not in current:
                        raise not_found("tag", tag)
                    current.remove(tag)
            project.tags = current
        return current

    # -- users ----------------------------------------------------------

    def list_users(self, ctx: RequestContext, query: Query) -> list[User]:
        params = dict(query)
        domain_filter = params.get("domain_id") or ctx.domain_id
        self.policy.enforce(ctx, "identity:list_users", {"target": {"domain_id": domain_filter}})
        if not ctx.is_admin and ctx.domain_id and "domain_id" not in params:
            query = [*query, ("domain_id", ctx.domain_id)]
        with self.core.read() as session:
            stmt = apply_filters(
                select(User),
                query,
                {
                    "name": User.name,
                    "domain_id": User.domain_id,
                    "enabled": User.enabled,
                },
                booleans=("enabled",),
            )
            if "password_expires_at" in params:
                raise BadRequest("Filtering users by password_expires_at is not supported.")
            return list(session.scalars(stmt.order_by(User.name)))

    def show_user(self, ctx: RequestContext, user_id: str) -> User:
        with self.core.read() as session:
            user = get_user(session, user_id)
        self.policy.enforce(ctx, "identity:get_user", {"target": {"user": user_target(user)}})
        return user

    def create_user(self, ctx: RequestContext, data: dict[str, Any]) -> User:
        fields, extra = split_extra(
            data,
            (
                "name",
                "domain_id",
                "enabled",
                "password",
                "default_project_id",
                "description",
                "email",
                "options",
                "federated",
            ),
        )
        domain_id = (
            fields.get("domain_id") or ctx.domain_id or ctx.project_domain_id or DEFAULT_DOMAIN_ID
        )
        self.policy.enforce(
            ctx, "identity:create_user", {"target": {"user": {"domain_id": domain_id}}}
        )
        password = fields.get("password")
        hashed = self.core.passwords.hash(password) if password else None
        with self.core.write("user") as session:
            if session.get(Domain, domain_id) is None:
                raise not_found("domain", domain_id)
            user = User(
                id=new_id(),
                name=fields["name"],
                domain_id=domain_id,
                enabled=fields.get("enabled", True),
                default_project_id=fields.get("default_project_id"),
                description=fields.get("description"),
                email=fields.get("email"),
                password_hash=hashed,
                password_created_at=utcnow() if hashed else None,
                options=fields.get("options") or {},
                extra=extra,
            )
            session.add(user)
            session.flush()
        return user

    def update_user(self, ctx: RequestContext, user_id: str, data: dict[str, Any]) -> User:
        fields, extra = split_extra(
            data,
            (
                "name",
                "domain_id",
                "enabled",
                "password",
                "default_project_id",
                "description",
                "email",
                "options",
            ),
        )
        hashed = self.core.passwords.hash(fields["password"]) if fields.get("password") else None
        with self.core.write("user") as session:
            user = get_user(session, user_id)
            self.policy.enforce(
                ctx, "identity:update_user", {"target": {"user": user_target(user)}}
            )
            if "domain_id" in fields and fields["domain_id"] != user.domain_id:
                raise BadRequest("Updating the domain of a user is not allowed.")
            for key in ("name", "enabled", "default_project_id", "description", "email", "options"):
                if key in fields:
                    setattr(user, key, fields[key])
            if extra:
                user.extra = {**user.extra, **extra}
            if hashed:
                user.password_hash = hashed
                user.password_created_at = utcnow()
            if hashed or fields.get("enabled") is False:
                revoke(session, user_id=user.id)
            session.flush()
        return user

    def delete_user(self, ctx: RequestContext, user_id: str) -> None:
        with self.core.write("user") as session:
            user = get_user(session, user_id)
            self.policy.enforce(
                ctx, "identity:delete_user", {"target": {"user": user_target(user)}}
            )
            self._purge_user(session, user.id)
            session.delete(user)

    def _purge_user(self, session: Session, user_id: str) -> None:
        session.execute(delete(Assignment).where(Assignment.actor_id == user_id))
        session.execute(delete(GroupMembership).where(GroupMembership.user_id == user_id))
        session.execute(
            delete(ApplicationCredential).where(ApplicationCredential.user_id == user_id)
        )
        session.execute(delete(Credential).where(Credential.user_id == user_id))
        revoke(session, user_id=user_id)

    def change_password(self, ctx: RequestContext, user_id: str, original: str, new: str) -> None:
        with self.core.read() as session:
            user = get_user(session, user_id)
        self.policy.enforce(
            ctx, "identity:change_password", {"target": {"user": user_target(user)}}
        )
        from onestack.identity.exceptions import AuthenticationFailed

        if not self.core.passwords.verify(user.password_hash, original):
            raise AuthenticationFailed("Invalid password: the original password is wrong.")
        hashed = self.core.passwords.hash(new)
        with self.core.write("user") as session:
            user = get_user(session, user_id)
            user.password_hash = hashed
            user.password_created_at = utcnow()
            revoke(session, user_id=user.id)

    # -- groups ---------------------------------------------------------

    def list_groups(self, ctx: RequestContext, query: Query) -> list[Group]:
        params = dict(query)
        domain_filter = params.get("domain_id") or ctx.domain_id
        self.policy.enforce(ctx, "identity:list_groups", {"target": {"domain_id": domain_filter}})
        with self.core.read() as session:
            stmt = apply_filters(
                select(Group), query, {"name": Group.name, "domain_id": Group.domain_id}
            )
            return list(session.scalars(stmt.order_by(Group.name)))

    def show_group(self, ctx: RequestContext, group_id: str) -> Group:
        with self.core.read() as session:
            group = get_group(session, group_id)
        self.policy.enforce(ctx, "identity:get_group", {"target": {"group": _group_target(group)}})
        return group

    def create_group(self, ctx: RequestContext, data: dict[str, Any]) -> Group:
        fields, extra = split_extra(data, ("name", "domain_id", "description"))
        domain_id = (
            fields.get("domain_id") or ctx.domain_id or ctx.project_domain_id or DEFAULT_DOMAIN_ID
        )
        self.policy.enforce(
            ctx, "identity:create_group", {"target": {"group": {"domain_id": domain_id}}}
        )
        with self.core.write("group") as session:
            if session.get(Domain, domain_id) is None:
                raise not_found("domain", domain_id)
            group = Group(
                id=new_id(),
                name=fields["name"],
                domain_id=domain_id,
                description=fields.get("description") or "",
                extra=extra,
            )
            session.add(group)
            session.flush()
        return group

    def update_group(self, ctx: RequestContext, group_id: str, data: dict[str, Any]) -> Group:
        fields, extra = split_extra(data, ("name", "description", "domain_id"))
        with self.core.write("group") as session:
            group = get_group(session, group_id)
            self.policy.enforce(
                ctx, "identity:update_group", {"target": {"group": _group_target(group)}}
            )
            if "domain_id" in fields and fields["domain_id"] != group.domain_id:
                raise BadRequest("Updating the domain of a group is not allowed.")
            for key in ("name", "description"):
                if key in fields:
                    setattr(group, key, fields[key])
            if extra:
                group.extra = {**group.extra, **extra}
            session.flush()
        return group

    def delete_group(self, ctx: RequestContext, group_id: str) -> None:
        with self.core.write("group") as session:
            group = get_group(session, group_id)
            self.policy.enforce(
                ctx, "identity:delete_group", {"target": {"group": _group_target(group)}}
            )
            self._purge_group(session, group.id)
            session.delete(group)

    def _purge_group(self, session: Session, group_id: str) -> None:
        members = list(
            session.scalars(
                select(GroupMembership.user_id).where(GroupMembership.group_id == group_id)
            )
        )
        session.execute(delete(Assignment).where(Assignment.actor_id == group_id))
        session.execute(delete(GroupMembership).where(GroupMembership.group_id == group_id))
        for user_id in members:
            revoke(session, user_id=user_id)

    def list_group_users(self, ctx: RequestContext, group_id: str, query: Query) -> list[User]:
        with self.core.read() as session:
            group = get_group(session, group_id)
            self.policy.enforce(
                ctx, "identity:list_users_in_group", {"target": {"group": _group_target(group)}}
            )
            stmt = (
                select(User)
                .join(GroupMembership, GroupMembership.user_id == User.id)
                .where(GroupMembership.group_id == group_id)
            )
            stmt = apply_filters(
                stmt,
                query,
                {"name": User.name, "enabled": User.enabled, "domain_id": User.domain_id},
                booleans=("enabled",),
            )
            return list(session.scalars(stmt.order_by(User.name)))

    def list_user_groups(self, ctx: RequestContext, user_id: str, query: Query) -> list[Group]:
        with self.core.read() as session:
            user = get_user(session, user_id)
            self.policy.enforce(
                ctx, "identity:list_groups_for_user", {"target": {"user": user_target(user)}}
            )
            stmt = (
                select(Group)
                .join(GroupMembership, GroupMembership.group_id == Group.id)
                .where(GroupMembership.user_id == user_id)
            )
            stmt = apply_filters(stmt, query, {"name": Group.name, "domain_id": Group.domain_id})
            return list(session.scalars(stmt.order_by(Group.name)))

    def membership(self, ctx: RequestContext, group_id: str, user_id: str, action: str) -> None:
        """``action``: "add", "remove" or "check" (404 when not a member)."""
        rule = {
            "add": "identity:add_user_to_group",
            "remove": "identity:remove_user_from_group",
            "check": "identity:check_user_in_group",
        }[action]
        with self.core.write("membership") if action != "check" else self.core.read() as session:
            group = get_group(session, group_id)
            user = get_user(session, user_id)
            self.policy.enforce(
                ctx, rule, {"target": {"group": _group_target(group), "user": user_target(user)}}
            )
            existing = session.get(GroupMembership, (user.id, group.id))
            if action == "add":
                if existing is None:
                    session.add(GroupMembership(user_id=user.id, group_id=group.id))
            elif existing is None:
                raise not_found("membership", f"user {user_id} in group {group_id}")
            elif action == "remove":
                session.delete(existing)
                revoke(session, user_id=user.id)


def _project_target(project: Project) -> dict[str, Any]:
    return {"id": project.id, "domain_id": project.domain_id, "parent_id": project.parent_id}


def user_target(user: User) -> dict[str, Any]:
    """The ``target.user`` of policy rules about ``user``."""
    return {"id": user.id, "domain_id": user.domain_id}


def _group_target(group: Group) -> dict[str, Any]:
    return {"id": group.id, "domain_id": group.domain_id}


def _validate_tags(tags: list[Any]) -> list[str]:
    if len(tags) > 80:
        raise BadRequest("A project may have at most 80 tags.")
    for tag in tags:
        if not isinstance(tag, str) or not tag or len(tag) > 255 or "/" in tag or "," in tag:
            raise BadRequest(f"Invalid tag {tag!r}: 1-255 characters, no '/' or ','.")
    return list(dict.fromkeys(tags))


def _filter_tags(projects: list[Project], params: dict[str, str]) -> list[Project]:
    def tags_of(value: str) -> set[str]:
        return {t for t in value.split(",") if t}

    if "tags" in params:
        wanted = tags_of(params["tags"])
        projects = [p for p in projects if wanted <= set(p.tags)]
    if "tags-any" in params:
        wanted = tags_of(params["tags-any"])
        projects = [p for p in projects if wanted & set(p.tags)]
    if "not-tags" in params:
        wanted = tags_of(params["not-tags"])
        projects = [p for p in projects if not wanted <= set(p.tags)]
    if "not-tags-any" in params:
        wanted = tags_of(params["not-tags-any"])
        projects = [p for p in projects if not wanted & set(p.tags)]
    return projects
