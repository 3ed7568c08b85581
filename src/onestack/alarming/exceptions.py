"""The Alarming API's errors, with Aodh's messages and status codes.

Aodh answers ``{"error_message": {"faultcode", "faultstring", "debuginfo"}}``
(``ErrorStyle.AODH``); aodhclient reads ``faultstring``.
"""

from __future__ import annotations

from onestack.common import exceptions as base


class ClientSideError(base.BadRequest):
    msg_fmt = "{error}"


class InvalidInput(base.BadRequest):
    msg_fmt = "Invalid input for field/attribute {field}. Value: '{value}'. {reason}"


class AlarmNotFound(base.NotFound):
    msg_fmt = "Alarm {alarm_id} not found"


class ProjectNotAuthorized(base.Unauthorized):
    msg_fmt = "Not Authorized to access {aspect} {id}"


class NotAuthorizedAction(base.Unauthorized):
    msg_fmt = "You are not authorized to create action: {action}"


class OverQuota(base.Forbidden):
    msg_fmt = "Alarm quota exceeded for user {user_id} on project {project_id}"


class MetricUnavailable(base.ServiceUnavailable):
    msg_fmt = "The metric service is unavailable: {reason}"
