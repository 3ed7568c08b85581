"""Identity errors, each with Keystone's message and status."""

from __future__ import annotations

from onestack.common.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    OneStackError,
    Unauthorized,
)


class NotFoundInIdentity(NotFound):
    msg_fmt = "Could not find {kind}: {id}."


class AccessRuleNotFound(NotFound):
    msg_fmt = "Could not find Access Rule: {id}."


def not_found(kind: str, id: str) -> NotFound:
    return NotFoundInIdentity(kind=kind, id=id)


class DuplicateEntry(Conflict):
    msg_fmt = "Conflict occurred attempting to store {kind} - Duplicate entry found with {field}."


class AuthenticationFailed(Unauthorized):
    msg_fmt = "The request you have made requires authentication."


class TokenNotFound(NotFound):
    msg_fmt = "Failed to validate token"


class ForbiddenAction(Forbidden):
    msg_fmt = "{reason}"


class InvalidScope(Unauthorized):
    msg_fmt = "{reason}"


class DomainNotEmpty(Forbidden):
    msg_fmt = "Cannot delete a domain that is enabled, please disable it first."


class ProjectHasChildren(Forbidden):
    msg_fmt = "Cannot delete the project {id} since it is not a leaf in the hierarchy."


class PasswordError(BadRequest):
    msg_fmt = "{reason}"


class Ec2CredentialExists(Conflict):
    msg_fmt = "An ec2 credential with this access key already exists."


class KeyRepositoryBroken(OneStackError):
    """The Fernet key directory lacks the keys it must hold (run key set-up first)."""

    code = 500
    msg_fmt = "{reason} in {directory}"
