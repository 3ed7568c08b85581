"""Cinder's default policy rules (secure RBAC), in code.

A project member manages the project's volumes, snapshots, backups,
attachments and transfers; a reader reads them; the cloud administrator
manages volume types, services, quotas and every project's resources, and
sees the host of each volume.  Operators override rules in the policy file.
"""

from __future__ import annotations

ADMIN = "rule:volume_admin_api"
MEMBER_OR_ADMIN = "rule:volume_project_member_or_admin"
READER_OR_ADMIN = "rule:volume_project_reader_or_admin"
ANY = "@"

_RESOURCES: dict[str, tuple[str, ...]] = {
    "volume": (
        "create",
        "create_from_image",
        "get",
        "get_all",
        "update",
        "delete",
        "force_delete",
        "extend",
        "extend_attached_volume",
        "upload_image",
        "revert_to_snapshot",
        "update_readonly_flag",
        "set_bootable",
        "retype",
        "reserve",
        "unreserve",
        "begin_detaching",
        "roll_detaching",
        "initialize_connection",
        "terminate_connection",
        "attach",
        "detach",
        "get_metadata",
        "update_metadata",
        "delete_metadata",
        "set_image_metadata",
        "unset_image_metadata",
    ),
    "snapshot": (
        "create",
        "get",
        "get_all",
        "update",
        "delete",
        "get_metadata",
        "update_metadata",
        "delete_metadata",
    ),
    "backup": ("create", "get", "get_all", "update", "delete", "restore"),
    "attachment": ("create", "get", "get_all", "update", "delete", "complete"),
    "transfer": ("create", "get", "get_all", "delete", "accept"),
}

_ADMIN_ONLY = {
    "volume:force_delete",
    "volume:reset_status",
    "volume:host_attribute",
    "volume:all_tenants",
    "volume_extension:types_manage",
    "volume_extension:types_extra_specs:manage",
    "volume_extension:volume_type_access:manage",
    "volume_extension:quotas:update",
    "volume_extension:quotas:delete",
    "volume_extension:services:index",
    "volume_extension:services:update",
    "volume:get_pools",
    "scheduler_extension:scheduler_stats:get_pools",
    "volume_extension:capabilities",
    "volume_extension:hosts",
    "volume_extension:qos_specs_manage:get_all",
    "volume_extension:qos_specs_manage:get",
    "volume_extension:qos_specs_manage:create",
    "volume_extension:qos_specs_manage:update",
    "volume_extension:qos_specs_manage:delete",
    "volume_extension:volume_type_encryption:get",
    "volume_extension:volume_type_encryption:create",
    "volume_extension:volume_type_encryption:update",
    "volume_extension:volume_type_encryption:delete",
    "volume_extension:snapshot_admin_actions:reset_status",
    "volume_extension:snapshot_admin_actions:force_delete",
    "volume_extension:backup_admin_actions:reset_status",
    "backup:backup-export",
    "backup:backup-import",
}

RULES: dict[str, str] = {
    "volume_admin_api": "role:admin",
    "volume_project_member": "role:member and project_id:%(project_id)s",
    "volume_project_reader": "role:reader and project_id:%(project_id)s",
    "volume_project_member_or_admin": f"rule:volume_project_member or {ADMIN}",
    "volume_project_reader_or_admin": f"rule:volume_project_reader or {ADMIN}",
    "volume_extension:types_get": ANY,
    "volume_extension:types_extra_specs:index": ANY,
    "volume_extension:quotas:show": READER_OR_ADMIN,
    "volume_extension:availability_zone_list": ANY,
    "limits_extension:used_limits": ANY,
    "snapshot_extension:snapshot_actions:update_snapshot_status": MEMBER_OR_ADMIN,
    **dict.fromkeys(sorted(_ADMIN_ONLY), ADMIN),
}
for _kind, _actions in _RESOURCES.items():
    for _action in _actions:
        _reader = _action.startswith("get")
        RULES.setdefault(f"{_kind}:{_action}", READER_OR_ADMIN if _reader else MEMBER_OR_ADMIN)
