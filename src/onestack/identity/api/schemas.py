"""Request bodies of the identity API, as Keystone's JSON schemas define them.

Types are strict (``"enabled": "yes"`` is a 400, not a truthy string) and
entities accept extra attributes, which Keystone stores and returns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    field_validator,
)

Name = Annotated[StrictStr, Field(min_length=1, max_length=255)]
ShortName = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Id = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Description = StrictStr | None


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("None is not of type 'string'")
    return value


def _not_null_bool(value: Any) -> Any:
    if value is None:
        raise ValueError("None is not of type 'boolean'")
    return value


# An attribute an update may leave out but never set to null (Keystone's schemas
# type it "string" or "boolean" without "null"); the default None means "unchanged".
NameUpdate = Annotated[ShortName | None, BeforeValidator(_not_null)]
LongNameUpdate = Annotated[Name | None, BeforeValidator(_not_null)]
EnabledUpdate = Annotated[StrictBool | None, BeforeValidator(_not_null_bool)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DomainCreate(_Open):
    name: ShortName
    description: Description = None
    enabled: StrictBool = True
    options: dict[str, Any] | None = None
    explicit_domain_id: Id | None = None


class DomainUpdate(_Open):
    name: NameUpdate = None
    description: Description = None
    enabled: EnabledUpdate = None
    options: dict[str, Any] | None = None


class ProjectCreate(_Open):
    name: ShortName
    description: Description = None
    enabled: StrictBool = True
    domain_id: Id | None = None
    parent_id: Id | None = None
    is_domain: StrictBool = False
    tags: list[StrictStr] | None = None
    options: dict[str, Any] | None = None


class ProjectUpdate(_Open):
    name: NameUpdate = None
    description: Description = None
    enabled: EnabledUpdate = None
    tags: list[StrictStr] | None = None
    options: dict[str, Any] | None = None


class UserCreate(_Open):
    name: Name
    domain_id: Id | None = None
    enabled: StrictBool = True
    password: Annotated[StrictStr, Field(max_length=4096)] | None = None
    default_project_id: Id | None = None
    description: Description = None
    email: StrictStr | None = None
    options: dict[str, Any] | None = None


class UserUpdate(_Open):
    name: LongNameUpdate = None
    enabled: EnabledUpdate = None
    password: Annotated[StrictStr, Field(max_length=4096)] | None = None
    default_project_id: Id | None = None
    description: Description = None
    email: StrictStr | None = None
    options: dict[str, Any] | None = None


class PasswordChange(_Closed):
    original_password: Annotated[StrictStr, Field(max_length=4096)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=4096)]


class GroupCreate(_Open):
    name: ShortName
    domain_id: Id | None = None
    description: Description = None


class GroupUpdate(_Open):
    name: NameUpdate = None
    description: Description = None


class RoleCreate(_Open):
    name: Name
    domain_id: Id | None = None
    description: Description = None
    options: dict[str, Any] | None = None


class RoleUpdate(_Open):
    name: LongNameUpdate = None
    description: Description = None
    options: dict[str, Any] | None = None


class RegionCreate(_Open):
    id: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = None
    description: Description = None
    parent_region_id: StrictStr | None = None


class RegionUpdate(_Open):
    description: Description = None
    parent_region_id: StrictStr | None = None


class ServiceCreate(_Open):
    type: Name
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    description: Description = None
    enabled: StrictBool = True


class ServiceUpdate(_Open):
    type: Name | None = None
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    description: Description = None
    enabled: StrictBool | None = None


class EndpointCreate(_Open):
    service_id: Id
    interface: StrictStr
    url: Annotated[StrictStr, Field(min_length=1, max_length=1024)]
    region_id: StrictStr | None = None
    region: StrictStr | None = None
    enabled: StrictBool = True

    @field_validator("interface")
    @classmethod
    def _interface(cls, value: str) -> str:
        if value not in ("public", "internal", "admin"):
            raise ValueError("must be public, internal or admin")
        return value


class EndpointUpdate(_Open):
    service_id: Id | None = None
    interface: StrictStr | None = None
    url: Annotated[StrictStr, Field(min_length=1, max_length=1024)] | None = None
    region_id: StrictStr | None = None
    region: StrictStr | None = None
    enabled: StrictBool | None = None

    @field_validator("interface")
    @classmethod
    def _interface(cls, value: str | None) -> str | None:
        if value is not None and value not in ("public", "internal", "admin"):
            raise ValueError("must be public, internal or admin")
        return value


class RoleRefIn(_Closed):
    id: Id | None = None
    name: Name | None = None
    domain_id: Id | None = None


class AccessRuleIn(_Closed):
    """An existing rule by ``id``, or a new one with all of service, method and path."""

    id: Id | None = None
    service: ShortName | None = None
    method: Literal["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"] | None = None
    path: Annotated[StrictStr, Field(max_length=225, pattern=r"^/")] | None = None


class AppCredCreate(_Closed):
    name: Name
    secret: Annotated[StrictStr, Field(min_length=1, max_length=4096)] | None = None
    description: Description = None
    expires_at: datetime | None = None
    roles: list[RoleRefIn] | None = None
    unrestricted: StrictBool = False
    access_rules: list[AccessRuleIn] | None = None

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        from datetime import UTC

        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class CredentialCreate(_Open):
    user_id: Id
    type: Name
    blob: StrictStr
    project_id: Id | None = None


class CredentialUpdate(_Open):
    user_id: Id | None = None
    type: Name | None = None
    blob: StrictStr | None = None
    project_id: Id | None = None


class Ec2Create(_Open):
    tenant_id: Id | None = None
    project_id: Id | None = None


class ProjectTags(_Closed):
    tags: list[StrictStr]


class PolicyCreate(_Open):
    blob: StrictStr
    type: Annotated[StrictStr, Field(max_length=255)]


class PolicyUpdate(_Open):
    blob: StrictStr | None = None
    type: Annotated[StrictStr, Field(max_length=255)] | None = None


class EndpointGroupCreate(_Open):
    name: Name
    description: Description = None
    filters: dict[str, Any]


class EndpointGroupUpdate(_Open):
    name: Name | None = None
    description: Description = None
    filters: dict[str, Any] | None = None


class ConsumerCreate(_Open):
    description: Description = None


class ConsumerUpdate(_Open):
    description: Description = None
