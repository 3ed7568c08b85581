"""Gnocchi's default policy rules, under Gnocchi's own rule names.

An operator's Gnocchi ``policy.yaml`` applies unchanged, except that the
creator of a resource or metric is matched as ``user_id:%(created_by_user_id)s``
(onestack's credentials name the user ``user_id``; Gnocchi compares its
``user:project`` pair).  Resources and metrics a rule does not grant outright are
filtered: a project sees what it owns (``project_id``), what it created
(``created_by_project_id``) and what its user created.  The helper rules are
named ``gnocchi:<name>`` to stay apart from other services' helpers.
"""

from __future__ import annotations

ADMIN = "role:admin"
ADMIN_OR_SERVICE = "role:admin or role:service"
CREATOR = "user_id:%(created_by_user_id)s or project_id:%(created_by_project_id)s"
ADMIN_OR_CREATOR = f"role:admin or {CREATOR}"
RESOURCE_OWNER = "project_id:%(project_id)s"
METRIC_OWNER = "project_id:%(resource.project_id)s"
UNPROTECTED = "@"

_ADMIN_OR_SERVICE_OR_CREATOR = "rule:gnocchi:admin_or_service or rule:gnocchi:creator"
_ADMIN_OR_CREATOR_OR_RESOURCE_OWNER = "rule:gnocchi:admin_or_creator or rule:gnocchi:resource_owner"
_ADMIN_OR_SERVICE_OR_CREATOR_OR_RESOURCE_OWNER = (
    "rule:gnocchi:admin_or_service or rule:gnocchi:creator or rule:gnocchi:resource_owner"
)
_ADMIN_OR_CREATOR_OR_METRIC_OWNER = "rule:gnocchi:admin_or_creator or rule:gnocchi:metric_owner"
_ADMIN_OR_SERVICE_OR_CREATOR_OR_METRIC_OWNER = (
    "rule:gnocchi:admin_or_service or rule:gnocchi:creator or rule:gnocchi:metric_owner"
)

RULES: dict[str, str] = {
    "gnocchi:admin_or_creator": ADMIN_OR_CREATOR,
    "gnocchi:admin_or_service": ADMIN_OR_SERVICE,
    "gnocchi:creator": CREATOR,
    "gnocchi:resource_owner": RESOURCE_OWNER,
    "gnocchi:metric_owner": METRIC_OWNER,
    "get status": ADMIN,
    "create resource": UNPROTECTED,
    "get resource": _ADMIN_OR_CREATOR_OR_RESOURCE_OWNER,
    "update resource": _ADMIN_OR_SERVICE_OR_CREATOR,
    "delete resource": "rule:gnocchi:admin_or_creator",
    "delete resources": "rule:gnocchi:admin_or_creator",
    "list resource": _ADMIN_OR_CREATOR_OR_RESOURCE_OWNER,
    "search resource": _ADMIN_OR_SERVICE_OR_CREATOR_OR_RESOURCE_OWNER,
    "create resource type": "rule:gnocchi:admin_or_service",
    "get resource type": UNPROTECTED,
    "update resource type": "rule:gnocchi:admin_or_service",
    "delete resource type": ADMIN,
    "list resource type": UNPROTECTED,
    "create archive policy": "rule:gnocchi:admin_or_service",
    "get archive policy": UNPROTECTED,
    "update archive policy": ADMIN,
    "delete archive policy": ADMIN,
    "list archive policy": UNPROTECTED,
    "create archive policy rule": ADMIN,
    "get archive policy rule": UNPROTECTED,
    "update archive policy rule": ADMIN,
    "delete archive policy rule": ADMIN,
    "list archive policy rule": UNPROTECTED,
    "create metric": UNPROTECTED,
    "get metric": _ADMIN_OR_SERVICE_OR_CREATOR_OR_METRIC_OWNER,
    "delete metric": "rule:gnocchi:admin_or_creator",
    "list metric": _ADMIN_OR_CREATOR_OR_METRIC_OWNER,
    "search metric": _ADMIN_OR_CREATOR_OR_METRIC_OWNER,
    "post measures": _ADMIN_OR_SERVICE_OR_CREATOR,
    "get measures": _ADMIN_OR_SERVICE_OR_CREATOR_OR_METRIC_OWNER,
}
