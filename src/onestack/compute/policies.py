"""Nova's default policy rules (secure RBAC), in code.

A project member manages the project's servers, keypairs are their user's,
and the cloud administrator manages flavors, services, hypervisors and every
project's quotas.  Operators override rules in the policy file.
"""

from __future__ import annotations

ADMIN = "rule:context_is_admin"
MEMBER = "rule:project_member_api"
READER = "rule:project_reader_api"
MEMBER_OR_ADMIN = "rule:project_member_or_admin"
READER_OR_ADMIN = "rule:project_reader_or_admin"

RULES: dict[str, str] = {
    "context_is_admin": "role:admin",
    "project_member_api": "role:member and project_id:%(project_id)s",
    "project_reader_api": "role:reader and project_id:%(project_id)s",
    "project_member_or_admin": f"{MEMBER} or {ADMIN}",
    "project_reader_or_admin": f"{READER} or {ADMIN}",
    # servers
    "os_compute_api:servers:index": READER_OR_ADMIN,
    "os_compute_api:servers:detail": READER_OR_ADMIN,
    "os_compute_api:servers:index:get_all_tenants": ADMIN,
    "os_compute_api:servers:detail:get_all_tenants": ADMIN,
    "os_compute_api:servers:show": READER_OR_ADMIN,
    "os_compute_api:servers:show:host_status": ADMIN,
    "os_compute_api:os-extended-server-attributes": ADMIN,
    "os_compute_api:servers:create": MEMBER_OR_ADMIN,
    "os_compute_api:servers:create:forced_host": ADMIN,
    "os_compute_api:servers:update": MEMBER_OR_ADMIN,
    "os_compute_api:servers:delete": MEMBER_OR_ADMIN,
    "os_compute_api:os-admin-actions:force_delete": MEMBER_OR_ADMIN,
    "os_compute_api:servers:start": MEMBER_OR_ADMIN,
    "os_compute_api:servers:stop": MEMBER_OR_ADMIN,
    "os_compute_api:servers:reboot": MEMBER_OR_ADMIN,
    "os_compute_api:servers:rebuild": MEMBER_OR_ADMIN,
    "os_compute_api:servers:resize": MEMBER_OR_ADMIN,
    "os_compute_api:servers:confirm_resize": MEMBER_OR_ADMIN,
    "os_compute_api:servers:revert_resize": MEMBER_OR_ADMIN,
    "os_compute_api:servers:create_image": MEMBER_OR_ADMIN,
    "os_compute_api:os-pause-server:pause": MEMBER_OR_ADMIN,
    "os_compute_api:os-pause-server:unpause": MEMBER_OR_ADMIN,
    "os_compute_api:os-suspend-server:suspend": MEMBER_OR_ADMIN,
    "os_compute_api:os-suspend-server:resume": MEMBER_OR_ADMIN,
    "os_compute_api:os-lock-server:lock": MEMBER_OR_ADMIN,
    "os_compute_api:os-lock-server:unlock": MEMBER_OR_ADMIN,
    "os_compute_api:os-lock-server:unlock:unlock_override": ADMIN,
    "os_compute_api:os-console-output": MEMBER_OR_ADMIN,
    "os_compute_api:os-remote-consoles": MEMBER_OR_ADMIN,
    "os_compute_api:server-metadata:index": READER_OR_ADMIN,
    "os_compute_api:server-metadata:update": MEMBER_OR_ADMIN,
    "os_compute_api:os-server-tags:index": READER_OR_ADMIN,
    "os_compute_api:os-server-tags:update": MEMBER_OR_ADMIN,
    "os_compute_api:os-instance-actions:list": READER_OR_ADMIN,
    "os_compute_api:os-instance-actions:show": READER_OR_ADMIN,
    "os_compute_api:os-instance-actions:events": ADMIN,
    "os_compute_api:os-instance-actions:events:details": ADMIN,
    "os_compute_api:os-instance-actions:events:hide_traceback": "!",
    # flavors
    "os_compute_api:os-flavor-manage:create": ADMIN,
    "os_compute_api:os-flavor-manage:update": ADMIN,
    "os_compute_api:os-flavor-manage:delete": ADMIN,
    "os_compute_api:os-flavor-extra-specs:index": "@",
    "os_compute_api:os-flavor-extra-specs:create": ADMIN,
    "os_compute_api:os-flavor-extra-specs:update": ADMIN,
    "os_compute_api:os-flavor-extra-specs:delete": ADMIN,
    "os_compute_api:os-flavor-access": ADMIN,
    "os_compute_api:os-flavor-access:add_tenant_access": ADMIN,
    "os_compute_api:os-flavor-access:remove_tenant_access": ADMIN,
    # keypairs (the owner is the user)
    "os_compute_api:os-keypairs:index": f"{ADMIN} or user_id:%(user_id)s",
    "os_compute_api:os-keypairs:show": f"{ADMIN} or user_id:%(user_id)s",
    "os_compute_api:os-keypairs:create": f"{ADMIN} or user_id:%(user_id)s",
    "os_compute_api:os-keypairs:delete": f"{ADMIN} or user_id:%(user_id)s",
    # server groups
    "os_compute_api:os-server-groups:index": READER_OR_ADMIN,
    "os_compute_api:os-server-groups:index:all_projects": ADMIN,
    "os_compute_api:os-server-groups:show": READER_OR_ADMIN,
    "os_compute_api:os-server-groups:create": "role:member or role:admin",
    "os_compute_api:os-server-groups:delete": MEMBER_OR_ADMIN,
    # quotas, limits, usage
    "os_compute_api:os-quota-sets:show": READER_OR_ADMIN,
    "os_compute_api:os-quota-sets:update": ADMIN,
    "os_compute_api:os-quota-sets:delete": ADMIN,
    "os_compute_api:os-quota-sets:defaults": "@",
    "os_compute_api:os-quota-sets:detail": READER_OR_ADMIN,
    "os_compute_api:limits:other_project": ADMIN,
    "os_compute_api:os-simple-tenant-usage:show": READER_OR_ADMIN,
    "os_compute_api:os-simple-tenant-usage:list": ADMIN,
    # hosts
    "os_compute_api:os-availability-zone:list": "@",
    "os_compute_api:os-availability-zone:detail": ADMIN,
    "os_compute_api:os-services:list": ADMIN,
    "os_compute_api:os-services:update": ADMIN,
    "os_compute_api:os-services:delete": ADMIN,
    "os_compute_api:os-hypervisors:list": ADMIN,
    "os_compute_api:os-hypervisors:list-detail": ADMIN,
    "os_compute_api:os-hypervisors:show": ADMIN,
    "os_compute_api:os-hypervisors:statistics": ADMIN,
    "os_compute_api:os-hypervisors:servers": ADMIN,
    # volume attachments
    "os_compute_api:os-volumes-attachments:index": READER_OR_ADMIN,
    "os_compute_api:os-volumes-attachments:show": READER_OR_ADMIN,
    "os_compute_api:os-volumes-attachments:create": MEMBER_OR_ADMIN,
    "os_compute_api:os-volumes-attachments:update": MEMBER_OR_ADMIN,
    "os_compute_api:os-volumes-attachments:swap": ADMIN,
    "os_compute_api:os-volumes-attachments:delete": MEMBER_OR_ADMIN,
}
