"""Neutron's default policy rules, named ``network:<action>``.

Which resources a caller can *see* (its project's, shared and external
networks) is decided in the manager's queries; invisible resources are 404,
as in Neutron.  These rules decide what a caller may do with what it sees,
including the admin-only attributes (``shared``, ``router:external``,
``provider:*``, ``binding:*``, another project's ``project_id``).
"""

from __future__ import annotations

ADMIN = "role:admin"
MEMBER = "role:member or role:admin"
OWNER = "project_id:%(project_id)s"
ADMIN_OR_OWNER = f"{ADMIN} or ({OWNER})"
ADMIN_OR_MEMBER_OWNER = f"{ADMIN} or (role:member and {OWNER})"

_RESOURCES = (
    "network", "subnet", "port", "router", "floatingip", "security_group", "subnetpool",
)  # fmt: skip

RULES: dict[str, str] = {
    "network:admin_only": ADMIN,
}
for _name in _RESOURCES:
    RULES[f"network:create_{_name}"] = ADMIN_OR_MEMBER_OWNER
    RULES[f"network:get_{_name}"] = "@"
    RULES[f"network:update_{_name}"] = ADMIN_OR_MEMBER_OWNER
    RULES[f"network:delete_{_name}"] = ADMIN_OR_MEMBER_OWNER

RULES.update(
    {
        "network:create_security_group_rule": ADMIN_OR_MEMBER_OWNER,
        "network:get_security_group_rule": "@",
        "network:delete_security_group_rule": ADMIN_OR_MEMBER_OWNER,
        "network:create_subnetpool:shared": ADMIN,
        "network:update_subnetpool:shared": ADMIN,
        "network:create_subnetpool:is_default": ADMIN,
        "network:update_subnetpool:is_default": ADMIN,
        "network:create_network:shared": ADMIN,
        "network:update_network:shared": ADMIN,
        "network:create_network:router:external": ADMIN,
        "network:update_network:router:external": ADMIN,
        "network:create_network:is_default": ADMIN,
        "network:create_network:provider": ADMIN,
        "network:get_network:provider": ADMIN,
        "network:create_port:binding": ADMIN,
        "network:update_port:binding": ADMIN,
        "network:get_port:binding": ADMIN,
        "network:create_port:mac_address": ADMIN_OR_MEMBER_OWNER,
        "network:create_port:fixed_ips:ip_address": ADMIN_OR_MEMBER_OWNER,
        "network:create_port:device_owner": ADMIN_OR_MEMBER_OWNER,
        "network:create_floatingip:floating_ip_address": ADMIN,
        "network:set_project_id": ADMIN,
        "network:get_quota": f"{ADMIN} or project_id:%(project_id)s",
        "network:update_quota": ADMIN,
        "network:delete_quota": ADMIN,
        "network:list_quotas": ADMIN,
        "network:get_network_ip_availability": ADMIN,
        "network:get_agent": ADMIN,
        "network:update_agent": ADMIN,
        "network:delete_agent": ADMIN,
        "network:get_dhcp-networks": ADMIN,
        "network:create_dhcp-network": ADMIN,
        "network:delete_dhcp-network": ADMIN,
        "network:get_dhcp-agents": ADMIN,
        "network:get_l3-routers": ADMIN,
        "network:create_l3-router": ADMIN,
        "network:delete_l3-router": ADMIN,
        "network:get_l3-agents": ADMIN,
        "network:update_router:external_gateway_info:external_fixed_ips": ADMIN,
        "network:create_router:external_gateway_info:external_fixed_ips": ADMIN,
        "network:create_router:distributed": ADMIN,
        "network:create_metering_label": ADMIN,
        "network:get_metering_label": ADMIN,
        "network:delete_metering_label": ADMIN,
        "network:create_metering_label_rule": ADMIN,
        "network:get_metering_label_rule": ADMIN,
        "network:delete_metering_label_rule": ADMIN,
        "network:update_router:distributed": ADMIN,
        "network:add_router_interface": ADMIN_OR_MEMBER_OWNER,
        "network:remove_router_interface": ADMIN_OR_MEMBER_OWNER,
    }
)
