"""Heat's default policy rules (the secure-RBAC personas), in code.

Members of a project manage its stacks; readers read them; administrators
may list every project's stacks (``global_index``); the service list is for
administrators only.
"""

from __future__ import annotations

ADMIN = "role:admin"
MEMBER = "role:member and project_id:%(project_id)s"
READER = "role:reader and project_id:%(project_id)s"
ADMIN_OR_MEMBER = f"{ADMIN} or ({MEMBER})"
ADMIN_OR_READER = f"{ADMIN} or ({READER})"

_WRITE = (
    "create",
    "preview",
    "update",
    "update_patch",
    "preview_update",
    "preview_update_patch",
    "delete",
    "abandon",
    "snapshot",
    "delete_snapshot",
    "restore_snapshot",
    "suspend",
    "resume",
    "check",
    "cancel_update",
    "cancel_without_rollback",
    "validate_template",
)
_READ = (
    "index",
    "detail",
    "lookup",
    "show",
    "template",
    "environment",
    "files",
    "export",
    "list_outputs",
    "show_output",
    "list_snapshots",
    "show_snapshot",
    "list_resource_types",
    "resource_schema",
    "generate_template",
    "list_template_versions",
    "list_template_functions",
)

RULES: dict[str, str] = {
    **{f"stacks:{name}": ADMIN_OR_MEMBER for name in _WRITE},
    **{f"stacks:{name}": ADMIN_OR_READER for name in _READ},
    "stacks:global_index": ADMIN,
    "stacks:resource:index": ADMIN_OR_READER,
    "stacks:resource:show": ADMIN_OR_READER,
    "stacks:resource:metadata": ADMIN_OR_READER,
    "stacks:resource:signal": ADMIN_OR_MEMBER,
    "stacks:resource:mark_unhealthy": ADMIN_OR_MEMBER,
    "stacks:events:index": ADMIN_OR_READER,
    "stacks:events:show": ADMIN_OR_READER,
    "stacks:software_configs:create": ADMIN_OR_MEMBER,
    "stacks:software_configs:index": ADMIN_OR_READER,
    "stacks:software_configs:show": ADMIN_OR_READER,
    "stacks:software_configs:delete": ADMIN_OR_MEMBER,
    "stacks:software_deployments:create": ADMIN_OR_MEMBER,
    "stacks:software_deployments:index": ADMIN_OR_READER,
    "stacks:software_deployments:show": ADMIN_OR_READER,
    "stacks:software_deployments:update": ADMIN_OR_MEMBER,
    "stacks:software_deployments:delete": ADMIN_OR_MEMBER,
    "stacks:software_deployments:metadata": ADMIN_OR_READER,
    "stacks:build_info": ADMIN_OR_READER,
    "stacks:service:index": ADMIN,
}
