"""Domain-specific configuration (``/v3/domains/{domain_id}/config``), as Keystone keeps it.

Only the options that configure a domain's identity driver are accepted: the
``identity`` group's ``driver`` and ``list_limit`` and Keystone's list of ``ldap``
options; ``ldap.password`` is sensitive, stored but never returned.  Any other
group or option is Keystone's 403 "Invalid domain specific configuration".

onestack stores and serves these documents; its identity backend is always SQL,
so a stored configuration does not (yet) switch a domain to LDAP.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.exceptions import Forbidden, NotFound
from onestack.identity.core import DEFAULT_DOMAIN_ID, IdentityCore
from onestack.identity.models import DomainConfigOption
from onestack.identity.resources import get_domain

#: Keystone's defaults for the options a domain may override (its keystone.conf defaults).
DEFAULTS: dict[str, dict[str, Any]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost",
        "user": None,
        "suffix": "cn=example,cn=com",
        "query_scope": "one",
        "page_size": 0,
        "alias_dereferencing": "default",
        "debug_level": None,
        "chase_referrals": None,
        "user_tree_dn": None,
        "user_filter": None,
        "user_objectclass": "inetOrgPerson",
        "user_id_attribute": "cn",
        "user_name_attribute": "sn",
        "user_mail_attribute": "mail",
        "user_description_attribute": "description",
        "user_pass_attribute": "userPassword",
        "user_enabled_attribute": "enabled",
        "user_enabled_invert": False,
        "user_enabled_mask": 0,
        "user_enabled_default": "True",
        "user_attribute_ignore": ["default_project_id"],
        "user_default_project_id_attribute": None,
        "user_enabled_emulation": False,
        "user_enabled_emulation_dn": None,
        "user_enabled_emulation_use_group_config": False,
        "user_additional_attribute_mapping": [],
        "group_tree_dn": None,
        "group_filter": None,
        "group_objectclass": "groupOfNames",
        "group_id_attribute": "cn",
        "group_name_attribute": "ou",
        "group_members_are_ids": False,
        "group_member_attribute": "member",
        "group_desc_attribute": "description",
        "group_attribute_ignore": [],
        "group_additional_attribute_mapping": [],
        "tls_cacertfile": None,
        "tls_cacertdir": None,
        "use_tls": False,
        "tls_req_cert": "demand",
        "use_pool": True,
        "pool_size": 10,
        "pool_retry_max": 3,
        "pool_retry_delay": 0.1,
        "pool_connection_timeout": -1,
        "pool_connection_lifetime": 600,
        "use_auth_pool": True,
        "auth_pool_size": 100,
        "auth_pool_connection_lifetime": 60,
    },
}
#: stored, never shown
SENSITIVE: dict[str, frozenset[str]] = {"identity": frozenset(), "ldap": frozenset({"password"})}

#: readable by anyone through ``/v3/domains/default/config/security_compliance``
SECURITY_COMPLIANCE = "security_compliance"
PASSWORD_RULES: dict[str, Any] = {"password_regex": None, "password_regex_description": None}

Config = dict[str, dict[str, Any]]


class InvalidDomainConfig(Forbidden):
    msg_fmt = "Invalid domain specific configuration: {reason}."


class DomainConfigNotFound(NotFound):
    msg_fmt = "Could not find {what} in domain configuration for domain {domain_id}."


def _check_group_and_option(group: str | None, option: str | None) -> None:
    if group is None:
        return
    if group not in DEFAULTS:
        raise InvalidDomainConfig(
            reason=f"Group {group} is not supported for domain specific configurations"
        )
    if option is not None and option not in DEFAULTS[group] and option not in SENSITIVE[group]:
        raise InvalidDomainConfig(
            reason=f"Option {option} in group {group} is not supported for domain "
            "specific configurations"
        )


def _check_config(config: Any) -> Config:
    if not isinstance(config, dict) or not config:
        raise InvalidDomainConfig(reason="No options specified")
    for group, options in config.items():
        if not isinstance(options, dict) or not options:
            raise InvalidDomainConfig(
                reason=f"The value of group {group} specified in the config should be "
                "a dictionary of options"
            )
        for option in options:
            _check_group_and_option(group, option)
    return config


def _what(group: str | None, option: str | None) -> str:
    if option is not None:
        return f"option {option} in group {group}"
    if group is not None:
        return f"group {group}"
    return "any options"


class DomainConfigManager:
    def __init__(self, core: IdentityCore) -> None:
        self.core = core
        self.policy = core.enforcer

    @staticmethod
    def _rows(
        session: Session,
        domain_id: str,
        group: str | None = None,
        option: str | None = None,
        *,
        sensitive: bool | None = False,
    ) -> list[DomainConfigOption]:
        stmt = select(DomainConfigOption).where(DomainConfigOption.domain_id == domain_id)
        if group is not None:
            stmt = stmt.where(DomainConfigOption.group == group)
        if option is not None:
            stmt = stmt.where(DomainConfigOption.option == option)
        if sensitive is not None:
            stmt = stmt.where(DomainConfigOption.sensitive.is_(sensitive))
        order = (DomainConfigOption.group, DomainConfigOption.option)
        return list(session.scalars(stmt.order_by(*order)))

    @staticmethod
    def _as_config(rows: list[DomainConfigOption]) -> Config:
        config: Config = {}
        for row in rows:
            config.setdefault(row.group, {})[row.option] = row.value
        return config

    def _store(self, session: Session, domain_id: str, config: Config) -> None:
        for group, options in config.items():
            for option, value in options.items():
                row = session.get(DomainConfigOption, (domain_id, group, option))
                if row is None:
                    session.add(
                        DomainConfigOption(
                            domain_id=domain_id,
                            group=group,
                            option=option,
                            value=value,
                            sensitive=option in SENSITIVE[group],
                        )
                    )
                else:
                    row.value = value
        session.flush()

    def create(self, ctx: RequestContext, domain_id: str, config: Any) -> tuple[Config, bool]:
        """Replace the domain's whole configuration; True when it had none before."""
        self.policy.enforce(ctx, "identity:create_domain_config", {})
        with self.core.write("domain config") as session:
            get_domain(session, domain_id)
            config = _check_config(config)
            created = not self._rows(session, domain_id, sensitive=None)
            session.execute(
                delete(DomainConfigOption).where(DomainConfigOption.domain_id == domain_id)
            )
            session.flush()
            self._store(session, domain_id, config)
            return self._as_config(self._rows(session, domain_id)), created

    def show(
        self, ctx: RequestContext, domain_id: str, group: str | None, option: str | None
    ) -> dict[str, Any]:
        if group == SECURITY_COMPLIANCE:
            return self._security_compliance(ctx, domain_id, option)
        self.policy.enforce(ctx, "identity:get_domain_config", {})
        with self.core.read() as session:
            get_domain(session, domain_id)
            _check_group_and_option(group, option)
            config = self._as_config(self._rows(session, domain_id, group, option))
        if not config:
            raise DomainConfigNotFound(what=_what(group, option), domain_id=domain_id)
        if option is not None and group is not None:
            return {option: config[group][option]}
        return config

    def _security_compliance(
        self, ctx: RequestContext, domain_id: str, option: str | None
    ) -> dict[str, Any]:
        """What Keystone lets anyone read of its password rules (for the default domain):
        onestack sets none, so both are Keystone's default, null."""
        self.policy.enforce(ctx, "identity:get_security_compliance_domain_config", {})
        with self.core.read() as session:
            get_domain(session, domain_id)
        if domain_id != DEFAULT_DOMAIN_ID:
            raise InvalidDomainConfig(
                reason="Reading security compliance information for any domain other than "
                "the default domain is not allowed or supported"
            )
        if option is None:
            return {SECURITY_COMPLIANCE: dict(PASSWORD_RULES)}
        if option not in PASSWORD_RULES:
            raise InvalidDomainConfig(
                reason="Reading security compliance values other than password_regex and "
                "password_regex_description is not allowed"
            )
        return {option: PASSWORD_RULES[option]}

    def update(
        self,
        ctx: RequestContext,
        domain_id: str,
        config: Any,
        group: str | None = None,
        option: str | None = None,
    ) -> Config:
        """Merge into the configuration; a named group or option must exist already."""
        self.policy.enforce(ctx, "identity:update_domain_config", {})
        if group is not None and option is not None:
            config = {group: config}
        with self.core.write("domain config") as session:
            get_domain(session, domain_id)
            config = _check_config(config)
            _check_group_and_option(group, option)
            if group is not None:
                self._check_update_targets(session, domain_id, config, group, option)
            self._store(session, domain_id, config)
            return self._as_config(self._rows(session, domain_id))

    def _check_update_targets(
        self, session: Session, domain_id: str, config: Config, group: str, option: str | None
    ) -> None:
        if len(config) != 1 or (option is not None and len(config.get(group, {})) != 1):
            if option is not None:
                reason = (
                    f"Trying to update option {option} in group {group}, so that, and only "
                    "that, option must be specified  in the config"
                )
            else:
                reason = (
                    f"Trying to update group {group}, so that, and only that, group must "
                    "be specified in the config"
                )
            raise InvalidDomainConfig(reason=reason)
        if group not in config:
            raise InvalidDomainConfig(
                reason=f"request to update group {group}, but config provided contains "
                f"group {next(iter(config))} instead"
            )
        if option is not None and option not in config[group]:
            raise InvalidDomainConfig(
                reason=f"Trying to update option {option} in group {group}, but config "
                f"provided contains option {next(iter(config[group]))} instead"
            )
        if not self._rows(session, domain_id, group, option, sensitive=None):
            raise DomainConfigNotFound(what=_what(group, option), domain_id=domain_id)

    def delete(
        self, ctx: RequestContext, domain_id: str, group: str | None, option: str | None
    ) -> None:
        self.policy.enforce(ctx, "identity:delete_domain_config", {})
        with self.core.write("domain config") as session:
            get_domain(session, domain_id)
            _check_group_and_option(group, option)
            rows = self._rows(session, domain_id, group, option, sensitive=None)
            if group is not None and not rows:
                raise DomainConfigNotFound(what=_what(group, option), domain_id=domain_id)
            for row in rows:
                session.delete(row)

    def default(self, ctx: RequestContext, group: str | None, option: str | None) -> Any:
        """Keystone's defaults for the options a domain may set (never the sensitive ones)."""
        self.policy.enforce(ctx, "identity:get_domain_config_default", {})
        _check_group_and_option(group, option)
        if group is None:
            return {g: dict(options) for g, options in DEFAULTS.items()}
        if option is None:
            return {group: dict(DEFAULTS[group])}
        if option not in DEFAULTS[group]:
            raise InvalidDomainConfig(
                reason=f"Reading the default for option {option} in group {group} is not supported"
            )
        return {option: DEFAULTS[group][option]}
