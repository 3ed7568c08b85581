"""Roles, implied roles and role assignments (grants).

A user's effective roles on a target are its direct grants, its groups'
grants, grants inherited from the project's domain and parent projects, and
every role those imply (transitively).  Removing a grant needs no token
revocation: roles are recomputed whenever a token is validated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Forbidden
from onestack.common.pagination import parse_bool
from onestack.identity.core import IdentityCore, new_id
from onestack.identity.exceptions import not_found
from onestack.identity.models import (
    Assignment,
    Domain,
    Group,
    GroupMembership,
    ImpliedRole,
    Project,
    Role,
    User,
)
from onestack.identity.resources import (
    get_group,
    get_project,
    get_user,
    project_ancestors,
    user_target,
)

GLOBAL = "<<null>>"
SYSTEM = "system"


@dataclass(frozen=True)
class AssignmentRow:
    """One entry of ``/v3/role_assignments``."""

    role_id: str
    user_id: str | None = None
    group_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    inherited: bool = False
    via_group_id: str | None = None  # set for effective rows expanded from a group


def get_role(session: Session, role_id: str) -> Role:
    role = session.get(Role, role_id)
    if role is None:
        raise not_found("role", role_id)
    return role


def implied_closure(session: Session, role_ids: Iterable[str]) -> set[str]:
    result = set(role_ids)
    frontier = set(result)
    while frontier:
        rows = session.execute(
            select(ImpliedRole.implied_role_id).where(ImpliedRole.prior_role_id.in_(frontier))
        ).scalars()
        frontier = {r for r in rows if r not in result}
        result |= frontier
    return result


def user_group_ids(session: Session, user_id: str) -> list[str]:
    return list(
        session.scalars(select(GroupMembership.group_id).where(GroupMembership.user_id == user_id))
    )


def effective_role_ids(
    session: Session,
    user_id: str,
    *,
    project: Project | None = None,
    domain_id: str | None = None,
    system: bool = False,
) -> set[str]:
    """Role ids the user holds on exactly one target (with inheritance and implication)."""
    actors = [user_id, *user_group_ids(session, user_id)]
    conditions: list[Any] = []
    if project is not None:
        conditions.append((Assignment.target_id == project.id) & ~Assignment.inherited)
        inherited_targets = [
            project.domain_id,
            *[p.id for p in project_ancestors(session, project)],
        ]
        conditions.append(Assignment.target_id.in_(inherited_targets) & Assignment.inherited)
    elif domain_id is not None:
        conditions.append((Assignment.target_id == domain_id) & ~Assignment.inherited)
    elif system:
        conditions.append(Assignment.target_id == SYSTEM)
    else:
        return set()
    from sqlalchemy import or_

    rows = session.scalars(
        select(Assignment.role_id).where(Assignment.actor_id.in_(actors), or_(*conditions))
    )
    closure = implied_closure(session, rows)
    if not closure:
        return closure
    # Domain-specific roles never appear in tokens; only what they imply does.
    domain_roles = set(
        session.scalars(
            select(Role.id).where(Role.id.in_(list(closure)), Role.domain_id.is_not(None))
        )
    )
    return closure - domain_roles


def roles_by_id(session: Session, role_ids: Iterable[str]) -> list[Role]:
    ids = list(role_ids)
    if not ids:
        return []
    return list(session.scalars(select(Role).where(Role.id.in_(ids)).order_by(Role.name)))


class AssignmentManager:
    def __init__(self, core: IdentityCore) -> None:
        self.core = core
        self.policy = core.enforcer

    # -- roles ----------------------------------------------------------

    def list_roles(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> list[Role]:
        self.policy.enforce(ctx, "identity:list_roles", {})
        params = dict(query)
        with self.core.read() as session:
            stmt = select(Role)
            if "domain_id" in params:
                stmt = stmt.where(Role.domain_id == params["domain_id"])
            else:
                stmt = stmt.where(Role.domain_id.is_(None))
            if "name" in params:
                stmt = stmt.where(Role.name == params["name"])
            return list(session.scalars(stmt.order_by(Role.name)))

    def show_role(self, ctx: RequestContext, role_id: str) -> Role:
        self.policy.enforce(ctx, "identity:get_role", {})
        with self.core.read() as session:
            return get_role(session, role_id)

    def create_role(self, ctx: RequestContext, data: dict[str, Any]) -> Role:
        self.policy.enforce(ctx, "identity:create_role", {})
        from onestack.identity.resources import split_extra

        fields, extra = split_extra(data, ("name", "domain_id", "description", "options"))
        with self.core.write("role") as session:
            domain_id = fields.get("domain_id")
            if domain_id and session.get(Domain, domain_id) is None:
                raise BadRequest(f"Domain {domain_id} could not be found.")
            role = Role(
                id=new_id(),
                name=fields["name"],
                domain_id=domain_id,
                domain_key=domain_id or GLOBAL,
                description=fields.get("description"),
                options=fields.get("options") or {},
                extra=extra,
            )
            session.add(role)
            session.flush()
        return role

    def update_role(self, ctx: RequestContext, role_id: str, data: dict[str, Any]) -> Role:
        self.policy.enforce(ctx, "identity:update_role", {})
        with self.core.write("role") as session:
            role = get_role(session, role_id)
            if "domain_id" in data and data["domain_id"] != role.domain_id:
                raise BadRequest("Updating the domain of a role is not allowed.")
            if (
                role.options.get("immutable")
                and data.get("options", {}).get("immutable") is not False
            ):
                raise Forbidden(f"Role {role.id} is immutable.")
            for key in ("name", "description", "options"):
                if key in data:
                    setattr(role, key, data[key])
            session.flush()
        return role

    def delete_role(self, ctx: RequestContext, role_id: str) -> None:
        self.policy.enforce(ctx, "identity:delete_role", {})
        with self.core.write("role") as session:
            role = get_role(session, role_id)
            if role.options.get("immutable"):
                raise Forbidden(f"Role {role.id} is immutable.")
            session.execute(delete(Assignment).where(Assignment.role_id == role.id))
            session.execute(
                delete(ImpliedRole).where(
                    (ImpliedRole.prior_role_id == role.id)
                    | (ImpliedRole.implied_role_id == role.id)
                )
            )
            session.delete(role)

    # -- implied roles --------------------------------------------------

    def implied_roles(self, ctx: RequestContext, prior_id: str) -> tuple[Role, list[Role]]:
        self.policy.enforce(ctx, "identity:list_implied_roles", {})
        with self.core.read() as session:
            prior = get_role(session, prior_id)
            ids = session.scalars(
                select(ImpliedRole.implied_role_id).where(ImpliedRole.prior_role_id == prior_id)
            )
            return prior, roles_by_id(session, ids)

    def inference_rules(self, ctx: RequestContext) -> list[tuple[Role, list[Role]]]:
        self.policy.enforce(ctx, "identity:list_role_inference_rules", {})
        with self.core.read() as session:
            rules: dict[str, list[str]] = {}
            for row in session.scalars(select(ImpliedRole)):
                rules.setdefault(row.prior_role_id, []).append(row.implied_role_id)
            return [
                (get_role(session, prior), roles_by_id(session, implied))
                for prior, implied in rules.items()
            ]

    def implied_role(
        self, ctx: RequestContext, prior_id: str, implied_id: str, action: str
    ) -> tuple[Role, Role]:
        """``action``: "create", "delete" or "get"."""
        rule = {
            "create": "identity:create_implied_role",
            "delete": "identity:delete_implied_role",
            "get": "identity:get_implied_role",
        }[action]
        self.policy.enforce(ctx, rule, {})
        with self.core.write("implied_role") if action != "get" else self.core.read() as session:
            prior, implied = get_role(session, prior_id), get_role(session, implied_id)
            row = session.get(ImpliedRole, (prior_id, implied_id))
            if action == "create":
                if implied.name == "admin":
                    raise Forbidden("The admin role may not be implied by another role.")
                if prior.domain_id is None and implied.domain_id is not None:
                    raise Forbidden("A global role cannot imply a domain-specific role.")
                if prior_id in implied_closure(session, [implied_id]):
                    raise BadRequest("Implied roles may not form a cycle.")
                if row is None:
                    session.add(ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
            elif row is None:
                raise not_found("implied role", f"{prior_id} implies {implied_id}")
            elif action == "delete":
                session.delete(row)
            return prior, implied

    # -- grants ---------------------------------------------------------

    def _grant_key(
        self,
        session: Session,
        *,
        user_id: str | None,
        group_id: str | None,
        project_id: str | None,
        domain_id: str | None,
        system: bool,
        inherited: bool,
    ) -> tuple[str, str, str, dict[str, Any]]:
        if (user_id is None) == (group_id is None):
            raise BadRequest("Specify either a user or a group.")
        actor_kind = "User" if user_id else "Group"
        actor_id = user_id or group_id
        assert actor_id is not None
        target: dict[str, Any]
        if user_id:
            actor = get_user(session, user_id)
            target = {"user": {"id": actor.id, "domain_id": actor.domain_id}}
        else:
            group = get_group(session, group_id or "")
            target = {"group": {"id": group.id, "domain_id": group.domain_id}}
        if system:
            return f"{actor_kind}System", actor_id, SYSTEM, target
        if project_id:
            project = get_project(session, project_id)
            target["project"] = {"id": project.id, "domain_id": project.domain_id}
            target["domain_id"] = project.domain_id
            return f"{actor_kind}Project", actor_id, project.id, target
        if domain_id:
            if session.get(Domain, domain_id) is None:
                raise not_found("domain", domain_id)
            target["domain"] = {"id": domain_id}
            target["domain_id"] = domain_id
            return f"{actor_kind}Domain", actor_id, domain_id, target
        raise BadRequest("Specify a project, a domain or the system.")

    def grant(
        self,
        ctx: RequestContext,
        role_id: str,
        action: str,
        *,
        user_id: str | None = None,
        group_id: str | None = None,
        project_id: str | None = None,
        domain_id: str | None = None,
        system: bool = False,
        inherited: bool = False,
    ) -> None:
        """``action``: "create", "check" or "revoke" one grant."""
        prefix = "system_" if system else ""
        rule = {
            "create": f"identity:create_{prefix}grant",
            "check": f"identity:check_{prefix}grant",
            "revoke": f"identity:revoke_{prefix}grant",
        }[action]
        with self.core.write("grant") if action != "check" else self.core.read() as session:
            role = get_role(session, role_id)
            kind, actor_id, target_id, target = self._grant_key(
                session,
                user_id=user_id,
                group_id=group_id,
                project_id=project_id,
                domain_id=domain_id,
                system=system,
                inherited=inherited,
            )
            target["role"] = {"id": role.id, "domain_id": role.domain_id}
            self.policy.enforce(ctx, rule, {"target": target})
            if role.domain_id and role.domain_id != target.get("domain_id"):
                raise Forbidden("A domain-specific role can only be granted within its domain.")
            key = (kind, actor_id, target_id, role.id, inherited)
            row = session.get(Assignment, key)
            if action == "create":
                if row is None:
                    session.add(
                        Assignment(
                            type=kind,
                            actor_id=actor_id,
                            target_id=target_id,
                            role_id=role.id,
                            inherited=inherited,
                        )
                    )
            elif row is None:
                raise not_found("grant", f"role {role_id}")
            elif action == "revoke":
                session.delete(row)

    def list_grants(
        self,
        ctx: RequestContext,
        *,
        user_id: str | None = None,
        group_id: str | None = None,
        project_id: str | None = None,
        domain_id: str | None = None,
        system: bool = False,
        inherited: bool = False,
    ) -> list[Role]:
        with self.core.read() as session:
            kind, actor_id, target_id, target = self._grant_key(
                session,
                user_id=user_id,
                group_id=group_id,
                project_id=project_id,
                domain_id=domain_id,
                system=system,
                inherited=inherited,
            )
            rule = "identity:list_system_grants" if system else "identity:list_grants"
            self.policy.enforce(ctx, rule, {"target": target})
            ids = session.scalars(
                select(Assignment.role_id).where(
                    Assignment.type == kind,
                    Assignment.actor_id == actor_id,
                    Assignment.target_id == target_id,
                    Assignment.inherited == inherited,
                )
            )
            return roles_by_id(session, ids)

    # -- /v3/role_assignments -------------------------------------------

    def list_assignments(
        self, ctx: RequestContext, query: Sequence[tuple[str, str]]
    ) -> list[AssignmentRow]:
        params = dict(query)
        effective = "effective" in params and params["effective"] != "false"
        scope_domain = params.get("scope.domain.id")
        self.policy.enforce(
            ctx,
            "identity:list_role_assignments",
            {"target": {"domain_id": scope_domain or ctx.domain_id}},
        )
        inherited_only = None
        if "scope.OS-INHERIT:inherited_to" in params:
            inherited_only = params["scope.OS-INHERIT:inherited_to"] == "projects"
        if effective and "group.id" in params:
            raise BadRequest(
                "Combining effective and group filter will always result in an empty list."
            )
        with self.core.read() as session:
            rows = [self._row(a) for a in session.scalars(select(Assignment))]
            if effective:
                rows = self._effective(session, rows)
            if inherited_only is not None:
                rows = [r for r in rows if r.inherited == inherited_only]
            role_filter = params.get("role.id")
            if role_filter:
                rows = [r for r in rows if r.role_id == role_filter]
            if "user.id" in params:
                rows = [r for r in rows if r.user_id == params["user.id"]]
            if "group.id" in params:
                rows = [r for r in rows if r.group_id == params["group.id"]]
            if "scope.project.id" in params:
                rows = [r for r in rows if r.project_id == params["scope.project.id"]]
            if scope_domain:
                rows = [r for r in rows if r.domain_id == scope_domain]
            if "scope.system" in params:
                rows = [r for r in rows if r.system]
            if not ctx.is_admin and ctx.system_scope != "all" and ctx.domain_id:
                rows = [r for r in rows if self._in_domain(session, r, ctx.domain_id)]
            return rows

    @staticmethod
    def _row(a: Assignment) -> AssignmentRow:
        is_user = a.type.startswith("User")
        user_id = a.actor_id if is_user else None
        group_id = None if is_user else a.actor_id
        is_project, is_domain = a.type.endswith("Project"), a.type.endswith("Domain")
        return AssignmentRow(
            role_id=a.role_id,
            user_id=user_id,
            group_id=group_id,
            project_id=a.target_id if is_project else None,
            domain_id=a.target_id if is_domain else None,
            system=not (is_project or is_domain),
            inherited=a.inherited,
        )

    def _effective(self, session: Session, rows: list[AssignmentRow]) -> list[AssignmentRow]:
        """Expand groups to members, inheritance to projects, and implied roles."""
        members: dict[str, list[str]] = {}
        for m in session.scalars(select(GroupMembership)):
            members.setdefault(m.group_id, []).append(m.user_id)
        projects = list(session.scalars(select(Project)))
        children: dict[str, list[Project]] = {}
        for p in projects:
            children.setdefault(p.parent_id or "", []).append(p)
        # Domain-specific roles only ever stand for the global roles they imply.
        domain_roles = set(session.scalars(select(Role.id).where(Role.domain_id.is_not(None))))
        implied: dict[str, list[str]] = {}
        for rule in session.scalars(select(ImpliedRole)):
            implied.setdefault(rule.prior_role_id, []).append(rule.implied_role_id)

        def subtree(root: str) -> list[Project]:
            out, stack = [], list(children.get(root, []))
            while stack:
                p = stack.pop()
                if p.id == root:
                    continue
                out.append(p)
                stack.extend(children.get(p.id, []))
            return out

        expanded: list[AssignmentRow] = []
        for row in rows:
            users = (
                [(row.user_id, None)]
                if row.user_id
                else [(u, row.group_id) for u in members.get(row.group_id or "", [])]
            )
            for user_id, via in users:
                if row.inherited:
                    root = row.project_id or row.domain_id or ""
                    for project in subtree(root):
                        expanded.append(
                            AssignmentRow(
                                role_id=row.role_id,
                                user_id=user_id,
                                project_id=project.id,
                                via_group_id=via,
                            )
                        )
                else:
                    expanded.append(
                        AssignmentRow(
                            role_id=row.role_id,
                            user_id=user_id,
                            project_id=row.project_id,
                            domain_id=row.domain_id,
                            system=row.system,
                            via_group_id=via,
                        )
                    )
        result: list[AssignmentRow] = []
        seen: set[tuple[Any, ...]] = set()
        for row in expanded:
            stack, done = [row.role_id], set()
            while stack:
                role_id = stack.pop()
                if role_id in done:
                    continue
                done.add(role_id)
                stack.extend(implied.get(role_id, []))
                key = (role_id, row.user_id, row.project_id, row.domain_id, row.system)
                if key not in seen and role_id not in domain_roles:
                    seen.add(key)
                    result.append(
                        AssignmentRow(
                            role_id=role_id,
                            user_id=row.user_id,
                            project_id=row.project_id,
                            domain_id=row.domain_id,
                            system=row.system,
                            via_group_id=row.via_group_id,
                        )
                    )
        return result

    @staticmethod
    def _in_domain(session: Session, row: AssignmentRow, domain_id: str) -> bool:
        if row.domain_id:
            return row.domain_id == domain_id
        if row.project_id:
            project = session.get(Project, row.project_id)
            return project is not None and project.domain_id == domain_id
        return False

    # -- what a token may be scoped to ----------------------------------

    def scopable_projects(self, ctx: RequestContext) -> list[Project]:
        """``GET /auth/projects``: the enabled projects the caller holds a role on."""
        if ctx.user_id is None:
            return []
        with self.core.read() as session:
            return projects_for_user(session, ctx.user_id)

    def scopable_domains(self, ctx: RequestContext) -> list[Domain]:
        """``GET /auth/domains``: the enabled domains the caller holds a role on."""
        if ctx.user_id is None:
            return []
        with self.core.read() as session:
            return domains_for_user(session, ctx.user_id)

    def scopable_system(self, ctx: RequestContext) -> bool:
        """``GET /auth/system``: whether the caller holds a role on the system."""
        if ctx.user_id is None:
            return False
        with self.core.read() as session:
            return bool(effective_role_ids(session, ctx.user_id, system=True))

    def user_projects(
        self, ctx: RequestContext, user_id: str, query: Sequence[tuple[str, str]]
    ) -> list[Project]:
        """``GET /users/{user_id}/projects``, filtered by ``enabled``, ``name`` and
        ``domain_id``.  Asking about another user needs the right to see that user."""
        with self.core.read() as session:
            domain_id = ctx.user_domain_id
            if ctx.user_id != user_id:
                user = get_user(session, user_id)
                target = {"target": {"user": user_target(user)}}
                self.policy.enforce(ctx, "identity:get_user", target)
                domain_id = user.domain_id
            self.policy.enforce(
                ctx,
                "identity:list_user_projects",
                {"target": {"user": {"id": user_id, "domain_id": domain_id}}},
            )
            projects = projects_for_user(session, user_id)
        params = dict(query)
        if "enabled" in params:
            wanted = parse_bool(params["enabled"], "enabled")
            projects = [p for p in projects if p.enabled == wanted]
        if "name" in params:
            projects = [p for p in projects if p.name == params["name"]]
        if "domain_id" in params:
            projects = [p for p in projects if p.domain_id == params["domain_id"]]
        return projects

    def names_for(self, rows: Sequence[AssignmentRow]) -> dict[str, dict[str, Any]]:
        """Names and domains of everything the rows mention (``include_names``)."""
        with self.core.read() as session:
            out: dict[str, dict[str, Any]] = {}
            for model, attr in (
                (Role, "role_id"),
                (User, "user_id"),
                (Group, "group_id"),
                (Project, "project_id"),
                (Domain, "domain_id"),
            ):
                ids = {getattr(r, attr) for r in rows if getattr(r, attr)}
                if not ids:
                    continue
                for obj in session.scalars(select(model).where(model.id.in_(ids))):
                    entry: dict[str, Any] = {"name": obj.name}
                    domain_id = getattr(obj, "domain_id", None)
                    if domain_id:
                        domain = session.get(Domain, domain_id)
                        entry["domain"] = {"id": domain_id, "name": domain.name if domain else ""}
                    out[obj.id] = entry
            return out


def parse_inherited(value: str | None) -> bool:
    return bool(value) and parse_bool(value or "false", "inherited")


def projects_for_user(session: Session, user_id: str) -> list[Project]:
    """Enabled projects where the user holds any role (directly, via groups or inherited)."""
    actors = [user_id, *user_group_ids(session, user_id)]
    rows = list(
        session.scalars(
            select(Assignment).where(
                Assignment.actor_id.in_(actors),
                Assignment.type.in_(["UserProject", "GroupProject", "UserDomain", "GroupDomain"]),
            )
        )
    )
    projects = {p.id: p for p in session.scalars(select(Project).where(Project.enabled.is_(True)))}
    chosen: set[str] = set()
    for row in rows:
        if row.type.endswith("Project") and not row.inherited:
            chosen.add(row.target_id)
        elif row.inherited:
            for project in projects.values():
                if project.domain_id == row.target_id or row.target_id in {
                    p.id for p in project_ancestors(session, project)
                }:
                    chosen.add(project.id)
    return sorted((projects[i] for i in chosen if i in projects), key=lambda p: p.name)


def domains_for_user(session: Session, user_id: str) -> list[Domain]:
    actors = [user_id, *user_group_ids(session, user_id)]
    ids = set(
        session.scalars(
            select(Assignment.target_id).where(
                Assignment.actor_id.in_(actors),
                Assignment.type.in_(["UserDomain", "GroupDomain"]),
                Assignment.inherited.is_(False),
            )
        )
    )
    if not ids:
        return []
    return list(session.scalars(select(Domain).where(Domain.id.in_(ids), Domain.enabled.is_(True))))
