"""Keystone's default policy rules (the secure-RBAC personas), in code.

``admin`` in any scope is the cloud administrator; ``reader`` with system
scope reads everything; a domain ``reader`` reads its domain; everyone may
read and manage what is their own (their user, application credentials,
credentials, tokens).  Operators override rules in the policy file.
"""

from __future__ import annotations

ADMIN = "rule:admin_required"
SYSTEM_READER = "(role:reader and system_scope:all)"
ADMIN_OR_SYSTEM_READER = f"{ADMIN} or {SYSTEM_READER}"
CREDENTIAL_OWNER = "user_id:%(target.credential.user_id)s"


def _domain_reader(attr: str) -> str:
    return f"(role:reader and domain_id:%({attr})s)"


RULES: dict[str, str] = {
    "admin_required": "role:admin or is_admin:1",
    "service_role": "role:service",
    "owner": "user_id:%(user_id)s",
    "admin_or_owner": "rule:admin_required or rule:owner",
    "token_subject": "user_id:%(target.token.user_id)s",
    # tokens and the auth routes
    "identity:validate_token": (
        f"{ADMIN_OR_SYSTEM_READER} or rule:service_role or rule:token_subject"
    ),
    "identity:check_token": f"{ADMIN_OR_SYSTEM_READER} or rule:token_subject",
    "identity:revoke_token": f"{ADMIN} or rule:service_role or rule:token_subject",
    # domains
    "identity:get_domain": f"{ADMIN_OR_SYSTEM_READER} or domain_id:%(target.domain.id)s "
    "or project_domain_id:%(target.domain.id)s",
    "identity:list_domains": ADMIN_OR_SYSTEM_READER,
    "identity:create_domain": ADMIN,
    "identity:update_domain": ADMIN,
    "identity:delete_domain": ADMIN,
    # projects
    "identity:get_project": f"{ADMIN_OR_SYSTEM_READER} or "
    f"{_domain_reader('target.project.domain_id')} or project_id:%(target.project.id)s",
    "identity:list_projects": f"{ADMIN_OR_SYSTEM_READER} or {_domain_reader('target.domain_id')}",
    "identity:list_user_projects": f"{ADMIN_OR_SYSTEM_READER} or user_id:%(target.user.id)s "
    f"or {_domain_reader('target.user.domain_id')}",
    "identity:create_project": ADMIN,
    "identity:update_project": ADMIN,
    "identity:delete_project": ADMIN,
    "identity:list_project_tags": f"{ADMIN_OR_SYSTEM_READER} or "
    f"{_domain_reader('target.project.domain_id')} or project_id:%(target.project.id)s",
    "identity:update_project_tags": ADMIN,
    # users
    "identity:get_user": f"{ADMIN_OR_SYSTEM_READER} or "
    f"{_domain_reader('target.user.domain_id')} or user_id:%(target.user.id)s",
    "identity:list_users": f"{ADMIN_OR_SYSTEM_READER} or {_domain_reader('target.domain_id')}",
    "identity:create_user": ADMIN,
    "identity:update_user": ADMIN,
    "identity:delete_user": ADMIN,
    # The original password proves the caller; Keystone does not restrict it further.
    "identity:change_password": f"{ADMIN} or user_id:%(target.user.id)s",
    # groups
    "identity:get_group": f"{ADMIN_OR_SYSTEM_READER} or {_domain_reader('target.group.domain_id')}",
    "identity:list_groups": f"{ADMIN_OR_SYSTEM_READER} or {_domain_reader('target.domain_id')}",
    "identity:list_groups_for_user": f"{ADMIN_OR_SYSTEM_READER} or "
    f"{_domain_reader('target.user.domain_id')} or user_id:%(target.user.id)s",
    "identity:list_users_in_group": f"{ADMIN_OR_SYSTEM_READER} or "
    f"{_domain_reader('target.group.domain_id')}",
    "identity:check_user_in_group": f"{ADMIN_OR_SYSTEM_READER} or "
    f"{_domain_reader('target.group.domain_id')}",
    "identity:create_group": ADMIN,
    "identity:update_group": ADMIN,
    "identity:delete_group": ADMIN,
    "identity:add_user_to_group": ADMIN,
    "identity:remove_user_from_group": ADMIN,
    # roles and assignments
    "identity:get_role": f"{ADMIN_OR_SYSTEM_READER} or role:reader",
    "identity:list_roles": f"{ADMIN_OR_SYSTEM_READER} or role:reader",
    "identity:create_role": ADMIN,
    "identity:update_role": ADMIN,
    "identity:delete_role": ADMIN,
    "identity:get_implied_role": ADMIN_OR_SYSTEM_READER,
    "identity:list_implied_roles": ADMIN_OR_SYSTEM_READER,
    "identity:list_role_inference_rules": ADMIN_OR_SYSTEM_READER,
    "identity:create_implied_role": ADMIN,
    "identity:delete_implied_role": ADMIN,
    "identity:check_implied_role": ADMIN_OR_SYSTEM_READER,
    "identity:list_role_assignments": f"{ADMIN_OR_SYSTEM_READER} or "
    f"{_domain_reader('target.domain_id')}",
    "identity:list_grants": f"{ADMIN_OR_SYSTEM_READER} or {_domain_reader('target.domain_id')}",
    "identity:check_grant": f"{ADMIN_OR_SYSTEM_READER} or {_domain_reader('target.domain_id')}",
    "identity:create_grant": ADMIN,
    "identity:revoke_grant": ADMIN,
    "identity:list_system_grants": ADMIN_OR_SYSTEM_READER,
    "identity:check_system_grant": ADMIN_OR_SYSTEM_READER,
    "identity:create_system_grant": ADMIN,
    "identity:revoke_system_grant": ADMIN,
    # catalog
    "identity:get_region": "",
    "identity:list_regions": "",
    "identity:create_region": ADMIN,
    "identity:update_region": ADMIN,
    "identity:delete_region": ADMIN,
    "identity:get_service": ADMIN_OR_SYSTEM_READER,
    "identity:list_services": ADMIN_OR_SYSTEM_READER,
    "identity:create_service": ADMIN,
    "identity:update_service": ADMIN,
    "identity:delete_service": ADMIN,
    "identity:get_endpoint": ADMIN_OR_SYSTEM_READER,
    "identity:list_endpoints": ADMIN_OR_SYSTEM_READER,
    "identity:create_endpoint": ADMIN,
    "identity:update_endpoint": ADMIN,
    "identity:delete_endpoint": ADMIN,
    # /v3/policies (identity/policy_store.py)
    "identity:get_policy": ADMIN_OR_SYSTEM_READER,
    "identity:list_policies": ADMIN_OR_SYSTEM_READER,
    "identity:create_policy": ADMIN,
    "identity:update_policy": ADMIN,
    "identity:delete_policy": ADMIN,
    # OS-EP-FILTER (identity/endpoint_filter.py)
    "identity:get_endpoint_group": ADMIN_OR_SYSTEM_READER,
    "identity:list_endpoint_groups": ADMIN_OR_SYSTEM_READER,
    "identity:create_endpoint_group": ADMIN,
    "identity:update_endpoint_group": ADMIN,
    "identity:delete_endpoint_group": ADMIN,
    "identity:list_endpoints_associated_with_endpoint_group": ADMIN_OR_SYSTEM_READER,
    "identity:list_projects_associated_with_endpoint_group": ADMIN_OR_SYSTEM_READER,
    "identity:list_endpoint_groups_for_project": ADMIN_OR_SYSTEM_READER,
    "identity:get_endpoint_group_in_project": ADMIN_OR_SYSTEM_READER,
    "identity:add_endpoint_group_to_project": ADMIN,
    "identity:remove_endpoint_group_from_project": ADMIN,
    "identity:add_endpoint_to_project": ADMIN,
    "identity:check_endpoint_in_project": ADMIN_OR_SYSTEM_READER,
    "identity:remove_endpoint_from_project": ADMIN,
    "identity:list_endpoints_for_project": ADMIN_OR_SYSTEM_READER,
    "identity:list_projects_for_endpoint": ADMIN_OR_SYSTEM_READER,
    # application credentials and credentials
    "identity:get_application_credential": f"{ADMIN_OR_SYSTEM_READER} or rule:owner",
    "identity:list_application_credentials": f"{ADMIN_OR_SYSTEM_READER} or rule:owner",
    "identity:create_application_credential": "rule:owner",
    "identity:delete_application_credential": f"{ADMIN} or rule:owner",
    "identity:get_credential": f"{ADMIN_OR_SYSTEM_READER} or {CREDENTIAL_OWNER}",
    "identity:list_credentials": f"{ADMIN_OR_SYSTEM_READER} or {CREDENTIAL_OWNER}",
    "identity:create_credential": f"{ADMIN} or user_id:%(target.credential.user_id)s",
    "identity:update_credential": f"{ADMIN} or user_id:%(target.credential.user_id)s",
    "identity:delete_credential": f"{ADMIN} or user_id:%(target.credential.user_id)s",
    "identity:ec2_get_credential": f"{ADMIN_OR_SYSTEM_READER} or "
    "user_id:%(target.credential.user_id)s",
    "identity:ec2_list_credentials": f"{ADMIN_OR_SYSTEM_READER} or rule:owner",
    "identity:ec2_create_credential": f"{ADMIN} or rule:owner",
    "identity:ec2_delete_credential": f"{ADMIN} or user_id:%(target.credential.user_id)s",
    "identity:get_access_rule": f"{ADMIN_OR_SYSTEM_READER} or rule:owner",
    "identity:list_access_rules": f"{ADMIN_OR_SYSTEM_READER} or rule:owner",
    "identity:delete_access_rule": f"{ADMIN} or rule:owner",
    # domain-specific configuration (identity/domain_config.py)
    "identity:get_domain_config": ADMIN_OR_SYSTEM_READER,
    "identity:get_domain_config_default": ADMIN_OR_SYSTEM_READER,
    "identity:get_security_compliance_domain_config": "@",
    "identity:create_domain_config": ADMIN,
    "identity:update_domain_config": ADMIN,
    "identity:delete_domain_config": ADMIN,
    # OS-OAUTH1 consumers (identity/oauth1.py)
    "identity:get_consumer": ADMIN_OR_SYSTEM_READER,
    "identity:list_consumers": ADMIN_OR_SYSTEM_READER,
    "identity:create_consumer": ADMIN,
    "identity:update_consumer": ADMIN,
    "identity:delete_consumer": ADMIN,
    # OS-TRUST (identity/trusts.py)
    "identity:create_trust": "user_id:%(trust.trustor_user_id)s",
    "identity:list_trusts": ADMIN_OR_SYSTEM_READER,
    "identity:list_trusts_for_trustor": f"{ADMIN_OR_SYSTEM_READER} or "
    "user_id:%(trust.trustor_user_id)s",
    "identity:list_trusts_for_trustee": f"{ADMIN_OR_SYSTEM_READER} or "
    "user_id:%(trust.trustee_user_id)s",
    "identity:get_trust": f"{ADMIN_OR_SYSTEM_READER} or user_id:%(trust.trustor_user_id)s "
    "or user_id:%(trust.trustee_user_id)s",
    "identity:delete_trust": f"{ADMIN} or user_id:%(trust.trustor_user_id)s",
    "identity:list_roles_for_trust": f"{ADMIN_OR_SYSTEM_READER} or "
    "user_id:%(trust.trustor_user_id)s or user_id:%(trust.trustee_user_id)s",
    "identity:get_role_for_trust": f"{ADMIN_OR_SYSTEM_READER} or "
    "user_id:%(trust.trustor_user_id)s or user_id:%(trust.trustee_user_id)s",
}
