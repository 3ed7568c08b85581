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
}
