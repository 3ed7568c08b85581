"""Glance's default policy rules (secure RBAC), named ``image:<action>``.

Who may *see* an image (owner, public, community, shared with an accepted or
pending membership) is decided in the manager's queries; these rules decide
what a caller who can see it may do.  Operators override them in the policy
file.
"""

from __future__ import annotations

ADMIN = "role:admin"
MEMBER_OWNER = "role:member and project_id:%(target.owner)s"
READER_OWNER = "role:reader and project_id:%(target.owner)s"
OWNER_OR_ADMIN = f"{ADMIN} or ({MEMBER_OWNER})"
READER = "role:reader or role:member or role:admin"

METADEF_READS = (
    "get_metadef_namespace",
    "get_metadef_namespaces",
    "get_metadef_object",
    "get_metadef_objects",
    "get_metadef_property",
    "get_metadef_properties",
    "get_metadef_tag",
    "get_metadef_tags",
    "list_metadef_resource_types",
    "get_metadef_resource_type",
)
METADEF_WRITES = (
    "add_metadef_namespace",
    "modify_metadef_namespace",
    "delete_metadef_namespace",
    "add_metadef_object",
    "modify_metadef_object",
    "delete_metadef_object",
    "add_metadef_property",
    "modify_metadef_property",
    "remove_metadef_property",
    "add_metadef_tag",
    "add_metadef_tags",
    "modify_metadef_tag",
    "delete_metadef_tag",
    "delete_metadef_tags",
    "add_metadef_resource_type_association",
    "remove_metadef_resource_type_association",
)

RULES: dict[str, str] = {
    "image:add_image": OWNER_OR_ADMIN,
    "image:get_image": "role:reader or role:member or role:admin",
    "image:get_images": "role:reader or role:member or role:admin",
    "image:modify_image": OWNER_OR_ADMIN,
    "image:delete_image": OWNER_OR_ADMIN,
    "image:publicize_image": ADMIN,
    "image:communitize_image": OWNER_OR_ADMIN,
    "image:upload_image": OWNER_OR_ADMIN,
    "image:download_image": "role:reader or role:member or role:admin",
    "image:deactivate": OWNER_OR_ADMIN,
    "image:reactivate": OWNER_OR_ADMIN,
    "image:set_owner": ADMIN,
    "image:add_member": OWNER_OR_ADMIN,
    "image:delete_member": OWNER_OR_ADMIN,
    "image:get_member": "role:reader or role:member or role:admin",
    "image:get_members": "role:reader or role:member or role:admin",
    "image:modify_member": f"{ADMIN} or (role:member and project_id:%(target.member_id)s)",
    "image:stage_image": OWNER_OR_ADMIN,
    "image:import_image": OWNER_OR_ADMIN,
    "image:get_usage": "role:reader or role:member or role:admin",
    "image:copy_image": ADMIN,
    "image:delete_image_location": ADMIN,
    "image:get_image_location": f"{ADMIN} or role:service",
    "image:get_stores_detail": ADMIN,
    # the tasks API: administrators only (Glance's tasks_api_access)
    "image:tasks_api_access": ADMIN,
    "image:get_task": ADMIN,
    "image:get_tasks": ADMIN,
    "image:add_task": ADMIN,
    # metadata definitions: everyone reads what they can see, administrators write
    **{f"image:{action}": READER for action in METADEF_READS},
    **{f"image:{action}": ADMIN for action in METADEF_WRITES},
}
