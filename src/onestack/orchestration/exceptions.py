"""Orchestration errors, named and worded as Heat's (the error ``type`` in its body is the
class name), with the statuses of Heat's fault middleware."""

from __future__ import annotations

from onestack.common.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    OneStackError,
    ServiceUnavailable,
)


class HTTPBadRequest(BadRequest):
    """What Heat's API answers for a body or template it cannot parse."""

    msg_fmt = "{detail}"


class StackValidationFailed(BadRequest):
    msg_fmt = "{message}"

    def __init__(
        self, message: str | None = None, *, path: list[str] | None = None, **kwargs: object
    ) -> None:
        if message is not None and path:
            message = f"{'.'.join(str(p) for p in path)}: {message}"
        super().__init__(message, **kwargs)


class InvalidTemplateVersion(BadRequest):
    msg_fmt = "The template version is invalid: {explanation}"


class InvalidTemplateReference(BadRequest):
    msg_fmt = 'The specified reference "{resource}" (in {key}) is incorrect.'


class InvalidTemplateAttribute(BadRequest):
    msg_fmt = "The Referenced Attribute ({resource} {key}) is incorrect."


class UserParameterMissing(BadRequest):
    msg_fmt = "The Parameter ({key}) was not provided."


class UnknownUserParameter(BadRequest):
    msg_fmt = "The Parameter ({key}) was not defined in template."


class ImmutableParameterModified(BadRequest):
    msg_fmt = "The following parameters are immutable and may not be updated: {keys}"


class CircularDependencyException(BadRequest):
    msg_fmt = "Circular Dependency Found: {cycle}"


class ResourceTypeUnavailable(BadRequest):
    msg_fmt = "{message}"


class NotSupported(BadRequest):
    """Heat answers 400 for a feature it does not support."""

    msg_fmt = "{feature} is not supported."


class RequestLimitExceeded(BadRequest):
    msg_fmt = "Request limit exceeded: {message}"


class InvalidTemplateSection(BadRequest):
    msg_fmt = "The template section is invalid: {section}"


class EntityNotFound(NotFound):
    msg_fmt = "The {entity} ({name}) could not be found."


class StackExists(Conflict):
    msg_fmt = "The Stack ({stack_name}) already exists."


class ActionInProgress(Conflict):
    msg_fmt = "Stack {stack_name} already has an action ({action}) in progress."


class ResourceActionNotSupported(BadRequest):
    msg_fmt = "{action} is not supported for resource."


class InvalidTenant(Forbidden):
    msg_fmt = "Searching Tenant {target} from Tenant {actual} forbidden."


class ActionNotComplete(OneStackError):
    """Raised inside the engine; never reaches the API."""

    msg_fmt = "{message}"


class ResourceFailure(OneStackError):
    """A resource action failed; ``message`` is what its status reason says."""

    msg_fmt = "{message}"


class UpdateReplace(Exception):
    """Raised by a resource's update when the change needs a new physical resource."""


class ServiceCallFailed(ResourceFailure):
    """Another service answered an error; the reason names the service's message."""

    def __init__(self, kind: str, status: int, message: str) -> None:
        self.status = status
        self.kind = kind
        super().__init__(f"{kind}: {message}")


class EngineUnavailable(ServiceUnavailable):
    msg_fmt = "The orchestration engine is not running."
