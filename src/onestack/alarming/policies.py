"""Aodh's default policy rules (secure RBAC), under Aodh's rule names.

A project reader reads the project's alarms, a member changes them, the cloud
administrator sees every project's (``all_projects``) and manages quotas.  The
helper rules are named ``aodh:<name>`` to stay apart from other services'.
"""

from __future__ import annotations

ADMIN = "rule:aodh:context_is_admin"
READER = "rule:aodh:project_reader_or_admin"
MEMBER = "rule:aodh:project_member_or_admin"

RULES: dict[str, str] = {
    "aodh:context_is_admin": "role:admin",
    "aodh:project_reader": "role:reader and project_id:%(project_id)s",
    "aodh:project_member": "role:member and project_id:%(project_id)s",
    "aodh:project_reader_or_admin": "rule:aodh:project_reader or rule:aodh:context_is_admin",
    "aodh:project_member_or_admin": "rule:aodh:project_member or rule:aodh:context_is_admin",
    "telemetry:get_alarm": READER,
    "telemetry:get_alarms": READER,
    "telemetry:get_alarms:all_projects": ADMIN,
    "telemetry:query_alarm": READER,
    "telemetry:create_alarm": MEMBER,
    "telemetry:change_alarm": MEMBER,
    "telemetry:delete_alarm": MEMBER,
    "telemetry:get_alarm_state": READER,
    "telemetry:change_alarm_state": MEMBER,
    "telemetry:alarm_history": READER,
    "telemetry:query_alarm_history": READER,
    "telemetry:get_quotas": READER,
    "telemetry:update_quotas": ADMIN,
    "telemetry:delete_quotas": ADMIN,
    "telemetry:get_metrics": READER,
    "telemetry:get_metrics:all_projects": ADMIN,
}
