"""The request context: who is calling, in which scope, with which roles.

Built by the auth middleware from a validated token and passed explicitly to
every manager call.  ``RequestContext.admin()`` is for onestack's own internal
work (bootstrap, agents); it never comes from a request.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

#: fields that never leave the process (``to_wire``)
_LOCAL = frozenset({"extra", "auth_token"})


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    user_id: str | None = None
    user_name: str | None = None
    user_domain_id: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None  # set when the token is domain-scoped
    domain_name: str | None = None
    system_scope: str | None = None  # "all" when the token is system-scoped
    roles: tuple[str, ...] = ()
    auth_token: str | None = None
    audit_id: str | None = None
    application_credential_id: str | None = None
    is_internal: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None or self.is_internal

    @property
    def is_admin(self) -> bool:
        """OpenStack's ``context_is_admin``: the admin role in any scope."""
        return self.is_internal or "admin" in self.roles

    def credentials(self) -> dict[str, Any]:
        """The dictionary policy rules are checked against (oslo.context's names)."""
        return {
            "user_id": self.user_id,
            "user": self.user_id,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "tenant": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "roles": list(self.roles),
            "is_admin": self.is_admin,
            "is_admin_project": True,
        }

    @classmethod
    def admin(cls, request_id: str = "internal") -> RequestContext:
        return cls(
            request_id=request_id,
            system_scope="all",
            roles=("admin", "member", "reader"),
            is_internal=True,
        )

    def to_wire(self) -> dict[str, Any]:
        """The context as JSON for the bus (``extra`` and the token stay behind)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _LOCAL}
        data["roles"] = list(self.roles)
        return data

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> RequestContext:
        """The context ``to_wire`` sent; unknown keys are ignored."""
        known = {f.name for f in fields(cls)} - _LOCAL
        values = {k: v for k, v in data.items() if k in known}
        values["roles"] = tuple(values.get("roles") or ())
        return cls(**values)
