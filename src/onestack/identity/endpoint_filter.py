"""OS-EP-FILTER: which endpoints a project's catalog shows.

A project is associated with endpoints directly, or with endpoint groups whose
``filters`` (``service_id``, ``interface``, ``region_id``) select endpoints.  A
project-scoped token's catalog then holds only those endpoints; a project without
any association sees every endpoint (Keystone's ``return_all_endpoints_if_no_filter``
default).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.common.pagination import apply_filters
from onestack.identity.core import IdentityCore, get_or_404, new_id
from onestack.identity.exceptions import not_found
from onestack.identity.models import (
    Endpoint,
    EndpointGroup,
    Project,
    ProjectEndpoint,
    ProjectEndpointGroup,
)

FILTER_KEYS = ("service_id", "interface", "region_id")


def check_filters(filters: dict[str, Any]) -> dict[str, str]:
    """Keystone's rule: at least one filter, each a known endpoint attribute."""
    if not filters:
        raise BadRequest("An endpoint group needs at least one filter.")
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise BadRequest(
            f"Invalid endpoint group filters: {', '.join(unknown)}; "
            f"valid are {', '.join(FILTER_KEYS)}."
        )
    if any(not isinstance(v, str) for v in filters.values()):
        raise BadRequest("Endpoint group filter values must be strings.")
    return {k: str(v) for k, v in filters.items()}


def matches(endpoint: Endpoint, filters: dict[str, Any]) -> bool:
    return all(getattr(endpoint, key) == value for key, value in filters.items())


def endpoints_of_group(session: Session, group: EndpointGroup) -> list[Endpoint]:
    stmt = select(Endpoint)
    for key, value in group.filters.items():
        stmt = stmt.where(getattr(Endpoint, key) == value)
    return list(session.scalars(stmt.order_by(Endpoint.id)))


def filtered_endpoints(session: Session) -> dict[str, set[str]]:
    """Every project that has an association: the ids of the endpoints it may see."""
    result: dict[str, set[str]] = {}
    for row in session.scalars(select(ProjectEndpoint)):
        result.setdefault(row.project_id, set()).add(row.endpoint_id)
    links = list(session.scalars(select(ProjectEndpointGroup)))
    if links:
        endpoints = list(session.scalars(select(Endpoint)))
        groups = {g.id: g for g in session.scalars(select(EndpointGroup))}
        for link in links:
            group = groups[link.endpoint_group_id]
            ids = {e.id for e in endpoints if matches(e, group.filters)}
            result.setdefault(link.project_id, set()).update(ids)
    return result


class EndpointFilterManager:
    def __init__(self, core: IdentityCore) -> None:
        self.core = core
        self.policy = core.enforcer

    # -- endpoint groups ------------------------------------------------

    def list_groups(
        self, ctx: RequestContext, query: Sequence[tuple[str, str]]
    ) -> list[EndpointGroup]:
        self.policy.enforce(ctx, "identity:list_endpoint_groups", {})
        with self.core.read() as session:
            stmt = apply_filters(select(EndpointGroup), query, {"name": EndpointGroup.name})
            return list(session.scalars(stmt.order_by(EndpointGroup.name, EndpointGroup.id)))

    def show_group(self, ctx: RequestContext, group_id: str) -> EndpointGroup:
        self.policy.enforce(ctx, "identity:get_endpoint_group", {})
        with self.core.read() as session:
            return get_or_404(session, EndpointGroup, "endpoint group", group_id)

    def create_group(self, ctx: RequestContext, data: dict[str, Any]) -> EndpointGroup:
        self.policy.enforce(ctx, "identity:create_endpoint_group", {})
        filters = check_filters(data["filters"])
        with self.core.write("endpoint group") as session:
            group = EndpointGroup(
                id=new_id(),
                name=data["name"],
                description=data.get("description"),
                filters=filters,
            )
            session.add(group)
            session.flush()
        return group

    def update_group(
        self, ctx: RequestContext, group_id: str, data: dict[str, Any]
    ) -> EndpointGroup:
        self.policy.enforce(ctx, "identity:update_endpoint_group", {})
        with self.core.write("endpoint group") as session:
            group = get_or_404(session, EndpointGroup, "endpoint group", group_id)
            if "filters" in data:
                group.filters = check_filters(data["filters"] or {})
            if data.get("name") is not None:
                group.name = data["name"]
            if "description" in data:
                group.description = data["description"]
            session.flush()
        return group

    def delete_group(self, ctx: RequestContext, group_id: str) -> None:
        self.policy.enforce(ctx, "identity:delete_endpoint_group", {})
        with self.core.write("endpoint group") as session:
            group = get_or_404(session, EndpointGroup, "endpoint group", group_id)
            session.execute(
                delete(ProjectEndpointGroup).where(
                    ProjectEndpointGroup.endpoint_group_id == group.id
                )
            )
            session.delete(group)

    def endpoints_in_group(self, ctx: RequestContext, group_id: str) -> list[Endpoint]:
        self.policy.enforce(ctx, "identity:list_endpoints_associated_with_endpoint_group", {})
        with self.core.read() as session:
            group = get_or_404(session, EndpointGroup, "endpoint group", group_id)
            return endpoints_of_group(session, group)

    def projects_of_group(self, ctx: RequestContext, group_id: str) -> list[Project]:
        self.policy.enforce(ctx, "identity:list_projects_associated_with_endpoint_group", {})
        with self.core.read() as session:
            get_or_404(session, EndpointGroup, "endpoint group", group_id)
            ids = select(ProjectEndpointGroup.project_id).where(
                ProjectEndpointGroup.endpoint_group_id == group_id
            )
            return _projects(session, ids)

    def groups_of_project(self, ctx: RequestContext, project_id: str) -> list[EndpointGroup]:
        self.policy.enforce(ctx, "identity:list_endpoint_groups_for_project", {})
        with self.core.read() as session:
            get_or_404(session, Project, "project", project_id)
            ids = select(ProjectEndpointGroup.endpoint_group_id).where(
                ProjectEndpointGroup.project_id == project_id
            )
            return list(
                session.scalars(
                    select(EndpointGroup)
                    .where(EndpointGroup.id.in_(ids))
                    .order_by(EndpointGroup.id)
                )
            )

    def add_group_to_project(self, ctx: RequestContext, group_id: str, project_id: str) -> None:
        self.policy.enforce(ctx, "identity:add_endpoint_group_to_project", {})
        with self.core.write("project endpoint group") as session:
            get_or_404(session, EndpointGroup, "endpoint group", group_id)
            get_or_404(session, Project, "project", project_id)
            if session.get(ProjectEndpointGroup, (group_id, project_id)) is None:
                session.add(ProjectEndpointGroup(endpoint_group_id=group_id, project_id=project_id))

    def project_in_group(self, ctx: RequestContext, group_id: str, project_id: str) -> Project:
        """The project, when it is associated with the group; 404 otherwise."""
        self.policy.enforce(ctx, "identity:get_endpoint_group_in_project", {})
        with self.core.read() as session:
            get_or_404(session, EndpointGroup, "endpoint group", group_id)
            project = get_or_404(session, Project, "project", project_id)
            if session.get(ProjectEndpointGroup, (group_id, project_id)) is None:
                raise not_found("project endpoint group", f"{group_id}/{project_id}")
            return project

    def remove_group_from_project(
        self, ctx: RequestContext, group_id: str, project_id: str
    ) -> None:
        self.policy.enforce(ctx, "identity:remove_endpoint_group_from_project", {})
        with self.core.write("project endpoint group") as session:
            link = session.get(ProjectEndpointGroup, (group_id, project_id))
            if link is None:
                raise not_found("project endpoint group", f"{group_id}/{project_id}")
            session.delete(link)

    # -- project-endpoint associations ----------------------------------

    def add_endpoint_to_project(
        self, ctx: RequestContext, project_id: str, endpoint_id: str
    ) -> None:
        self.policy.enforce(ctx, "identity:add_endpoint_to_project", {})
        with self.core.write("project endpoint") as session:
            get_or_404(session, Project, "project", project_id)
            get_or_404(session, Endpoint, "endpoint", endpoint_id)
            if session.get(ProjectEndpoint, (endpoint_id, project_id)) is None:
                session.add(ProjectEndpoint(endpoint_id=endpoint_id, project_id=project_id))

    def check_endpoint_in_project(
        self, ctx: RequestContext, project_id: str, endpoint_id: str
    ) -> None:
        self.policy.enforce(ctx, "identity:check_endpoint_in_project", {})
        with self.core.read() as session:
            get_or_404(session, Project, "project", project_id)
            get_or_404(session, Endpoint, "endpoint", endpoint_id)
            if session.get(ProjectEndpoint, (endpoint_id, project_id)) is None:
                raise not_found("project endpoint", f"{project_id}/{endpoint_id}")

    def remove_endpoint_from_project(
        self, ctx: RequestContext, project_id: str, endpoint_id: str
    ) -> None:
        self.policy.enforce(ctx, "identity:remove_endpoint_from_project", {})
        with self.core.write("project endpoint") as session:
            link = session.get(ProjectEndpoint, (endpoint_id, project_id))
            if link is None:
                raise not_found("project endpoint", f"{project_id}/{endpoint_id}")
            session.delete(link)

    def endpoints_of_project(self, ctx: RequestContext, project_id: str) -> list[Endpoint]:
        """Every endpoint the project's catalog is filtered to: direct associations and
        the endpoints of its groups."""
        self.policy.enforce(ctx, "identity:list_endpoints_for_project", {})
        with self.core.read() as session:
            get_or_404(session, Project, "project", project_id)
            ids = filtered_endpoints(session).get(project_id, set())
            return list(
                session.scalars(select(Endpoint).where(Endpoint.id.in_(ids)).order_by(Endpoint.id))
            )

    def projects_of_endpoint(self, ctx: RequestContext, endpoint_id: str) -> list[Project]:
        self.policy.enforce(ctx, "identity:list_projects_for_endpoint", {})
        with self.core.read() as session:
            get_or_404(session, Endpoint, "endpoint", endpoint_id)
            ids = select(ProjectEndpoint.project_id).where(
                ProjectEndpoint.endpoint_id == endpoint_id
            )
            return _projects(session, ids)


def _projects(session: Session, ids: Iterable[str] | Any) -> list[Project]:
    return list(session.scalars(select(Project).where(Project.id.in_(ids)).order_by(Project.id)))
