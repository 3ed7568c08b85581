"""How identity entities look on the wire (Keystone v3's representations)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onestack.identity.assignment import AssignmentRow
    from onestack.identity.models import (
        AccessRule,
        ApplicationCredential,
        Credential,
        Domain,
        Endpoint,
        EndpointGroup,
        Group,
        OAuthConsumer,
        PolicyBlob,
        Project,
        Region,
        Role,
        Service,
        User,
    )
    from onestack.identity.resources import DomainProject
    from onestack.identity.tokens import TokenData


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _links(base: str, path: str) -> dict[str, str]:
    return {"self": f"{base}/v3/{path}"}


def collection(
    name: str, items: Iterable[Any], render: Callable[[Any], dict[str, Any]], url: str
) -> dict[str, Any]:
    return {
        name: [render(i) for i in items],
        "links": {"self": url, "previous": None, "next": None},
    }


def domain(base: str, d: Domain) -> dict[str, Any]:
    return {
        **d.extra,
        "id": d.id,
        "name": d.name,
        "description": d.description or "",
        "enabled": d.enabled,
        "tags": [],
        "options": d.options or {},
        "links": _links(base, f"domains/{d.id}"),
    }


def project(base: str, p: Project | DomainProject) -> dict[str, Any]:
    body = {
        **p.extra,
        "id": p.id,
        "name": p.name,
        "domain_id": p.domain_id,
        "description": p.description or "",
        "enabled": p.enabled,
        "parent_id": p.parent_id,
        "is_domain": getattr(p, "is_domain", False),
        "tags": list(p.tags or []),
        "links": _links(base, f"projects/{p.id}"),
    }
    if p.options:  # Keystone shows a project's options only when it has some
        body["options"] = dict(p.options)
    return body


def user(base: str, u: User) -> dict[str, Any]:
    body: dict[str, Any] = {
        **u.extra,
        "id": u.id,
        "name": u.name,
        "domain_id": u.domain_id,
        "enabled": u.enabled,
        "password_expires_at": iso(u.password_expires_at),
        "options": u.options or {},
        "links": _links(base, f"users/{u.id}"),
    }
    for key in ("default_project_id", "description", "email"):
        value = getattr(u, key)
        if value is not None:
            body[key] = value
    return body


def group(base: str, g: Group) -> dict[str, Any]:
    return {
        **g.extra,
        "id": g.id,
        "name": g.name,
        "domain_id": g.domain_id,
        "description": g.description or "",
        "links": _links(base, f"groups/{g.id}"),
    }


def role(base: str, r: Role) -> dict[str, Any]:
    body = {
        **r.extra,
        "id": r.id,
        "name": r.name,
        "domain_id": r.domain_id,
        "options": r.options or {},
        "links": _links(base, f"roles/{r.id}"),
    }
    if r.description is not None:
        body["description"] = r.description
    return body


def role_ref(base: str, r: Role) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "links": _links(base, f"roles/{r.id}")}


def region(base: str, r: Region) -> dict[str, Any]:
    return {
        **r.extra,
        "id": r.id,
        "description": r.description,
        "parent_region_id": r.parent_region_id,
        "links": _links(base, f"regions/{r.id}"),
    }


def service(base: str, s: Service) -> dict[str, Any]:
    return {
        **s.extra,
        "id": s.id,
        "type": s.type,
        "name": s.name,
        "description": s.description,
        "enabled": s.enabled,
        "links": _links(base, f"services/{s.id}"),
    }


def endpoint(base: str, e: Endpoint) -> dict[str, Any]:
    return {
        **e.extra,
        "id": e.id,
        "interface": e.interface,
        "region_id": e.region_id,
        "region": e.region_id,
        "url": e.url,
        "service_id": e.service_id,
        "enabled": e.enabled,
        "links": _links(base, f"endpoints/{e.id}"),
    }


def policy(base: str, p: PolicyBlob) -> dict[str, Any]:
    return {
        **p.extra,
        "id": p.id,
        "type": p.type,
        "blob": p.blob,
        "links": _links(base, f"policies/{p.id}"),
    }


def endpoint_group(base: str, g: EndpointGroup) -> dict[str, Any]:
    return {
        "id": g.id,
        "name": g.name,
        "description": g.description or "",
        "filters": dict(g.filters),
        "links": _links(base, f"OS-EP-FILTER/endpoint_groups/{g.id}"),
    }


def app_cred(base: str, c: ApplicationCredential, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "user_id": c.user_id,
        "project_id": c.project_id,
        "description": c.description,
        # Keystone renders this one without the "Z" (its JSON encoder's format).
        "expires_at": c.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if c.expires_at else None,
        "unrestricted": c.unrestricted,
        "roles": list(c.roles),
        "access_rules": list(c.access_rules or []),
        "links": _links(base, f"users/{c.user_id}/application_credentials/{c.id}"),
    }
    if secret is not None:
        body["secret"] = secret
    return body


def access_rule(base: str, r: AccessRule) -> dict[str, Any]:
    return {
        "id": r.id,
        "service": r.service,
        "method": r.method,
        "path": r.path,
        "links": _links(base, f"users/{r.user_id}/access_rules/{r.id}"),
    }


def consumer(base: str, c: OAuthConsumer, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        **c.extra,
        "id": c.id,
        "description": c.description,
        "links": _links(base, f"OS-OAUTH1/consumers/{c.id}"),
    }
    if secret is not None:
        body["secret"] = secret
    return body


def credential(base: str, c: Credential, blob: str) -> dict[str, Any]:
    return {
        "id": c.id,
        "user_id": c.user_id,
        "project_id": c.project_id,
        "type": c.type,
        "blob": blob,
        "links": _links(base, f"credentials/{c.id}"),
    }


def assignment(
    base: str, row: AssignmentRow, names: dict[str, dict[str, Any]] | None
) -> dict[str, Any]:
    def named(kind: str, ident: str) -> dict[str, Any]:
        ref: dict[str, Any] = {"id": ident}
        if names is not None and ident in names:
            ref.update(names[ident])
        return ref

    body: dict[str, Any] = {"role": named("role", row.role_id)}
    scope: dict[str, Any]
    if row.project_id:
        scope = {"project": named("project", row.project_id)}
        target = f"projects/{row.project_id}"
    elif row.domain_id:
        scope = {"domain": named("domain", row.domain_id)}
        target = f"domains/{row.domain_id}"
    else:
        scope = {"system": {"all": True}}
        target = "system"
    if row.inherited:
        scope["OS-INHERIT:inherited_to"] = "projects"
    body["scope"] = scope
    if row.user_id:
        body["user"] = named("user", row.user_id)
        actor = f"users/{row.user_id}"
    else:
        body["group"] = named("group", row.group_id or "")
        actor = f"groups/{row.group_id}"
    prefix = "OS-INHERIT/" if row.inherited else ""
    link = f"{base}/v3/{prefix}{target}/{actor}/roles/{row.role_id}"
    if row.inherited:
        link += "/inherited_to_projects"
    body["links"] = {"assignment": link}
    if row.via_group_id:
        body["links"]["membership"] = f"{base}/v3/groups/{row.via_group_id}/users/{row.user_id}"
    return body


def token(data: TokenData, catalog: list[dict[str, Any]] | None) -> dict[str, Any]:
    u, p = data.user, data.payload
    body: dict[str, Any] = {
        "methods": list(p.methods),
        "user": {
            "id": u.id,
            "name": u.name,
            "domain": {"id": data.user_domain.id, "name": data.user_domain.name},
            "password_expires_at": iso(u.password_expires_at),
        },
        "audit_ids": list(p.audit_ids),
        "expires_at": iso(p.expires_at),
        "issued_at": iso(p.issued_at),
    }
    if data.project is not None and data.project_domain is not None:
        body["project"] = {
            "id": data.project.id,
            "name": data.project.name,
            "domain": {"id": data.project_domain.id, "name": data.project_domain.name},
        }
        body["is_domain"] = False
    elif data.domain is not None:
        body["domain"] = {"id": data.domain.id, "name": data.domain.name}
    elif p.system:
        body["system"] = {"all": True}
    if data.scoped:
        body["roles"] = [{"id": r.id, "name": r.name} for r in data.roles]
        if catalog is not None:
            body["catalog"] = catalog
    if data.trust is not None:
        body["OS-TRUST:trust"] = {
            "id": data.trust.id,
            "impersonation": data.trust.impersonation,
            "trustee_user": {"id": data.trust.trustee_user_id},
            "trustor_user": {"id": data.trust.trustor_user_id},
        }
    if data.app_cred is not None:
        body["application_credential"] = {
            "id": data.app_cred.id,
            "name": data.app_cred.name,
            "restricted": not data.app_cred.unrestricted,
        }
        if data.app_cred.access_rules:
            body["application_credential"]["access_rules"] = list(data.app_cred.access_rules)
    return {"token": body}
