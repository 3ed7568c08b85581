"""Request bodies of the compute API (Nova's JSON schemas, as pydantic models).

Unknown keys are refused (``extra="forbid"``) where Nova's schemas say
``additionalProperties: false``; the API turns any error into a 400.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _ipv4(value: str | None) -> str | None:
    if not value:
        return value
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError(f"'{value}' is not a 'ipv4'") from None


def _ipv6(value: str | None) -> str | None:
    """An IPv6 address in its canonical (compressed) form, as Nova stores it."""
    if not value:
        return value
    try:
        return str(ipaddress.IPv6Address(value))
    except ValueError:
        raise ValueError(f"'{value}' is not a 'ipv6'") from None


def _name(value: str) -> str:
    if not value.strip():
        raise ValueError("name must not be empty or only spaces")
    return value


class ServerCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    imageRef: str = ""
    flavorRef: str | int
    key_name: str | None = Field(None, min_length=1, max_length=255)
    user_data: str | None = Field(None, max_length=65535)
    metadata: dict[str, str] = Field(default_factory=dict)
    min_count: int = Field(1, ge=1)
    max_count: int | None = Field(None, ge=1)
    return_reservation_id: StrictBool = False
    availability_zone: str | None = Field(None, min_length=1, max_length=255)
    security_groups: list[dict[str, str]] | None = None
    networks: str | list[dict[str, Any]] | None = None
    tags: list[str] | None = None
    description: str | None = Field(None, max_length=255)
    hostname: str | None = Field(None, min_length=1, max_length=255)
    adminPass: str | None = None
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    config_drive: bool | str | None = None
    block_device_mapping_v2: list[dict[str, Any]] | None = None
    host: str | None = None
    hypervisor_hostname: str | None = None
    trusted_image_certificates: list[str] | None = None
    personality: list[dict[str, Any]] | None = None
    OS_DCF_diskConfig: Literal["AUTO", "MANUAL"] | None = Field(None, alias="OS-DCF:diskConfig")

    _check_ipv4 = field_validator("accessIPv4")(_ipv4)
    _check_ipv6 = field_validator("accessIPv6")(_ipv6)

    _check_name = field_validator("name")(_name)

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, str]) -> dict[str, str]:
        for key, item in value.items():
            if not 1 <= len(key) <= 255 or len(item) > 255:
                raise ValueError("metadata keys are 1-255 and values 0-255 characters")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        for tag in value or []:
            if not 1 <= len(tag) <= 60 or "/" in tag or "," in tag:
                raise ValueError(f"invalid tag {tag!r}")
        return value


class ServerUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=255)
    hostname: str | None = Field(None, min_length=1, max_length=255)
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    OS_DCF_diskConfig: Literal["AUTO", "MANUAL"] | None = Field(None, alias="OS-DCF:diskConfig")

    _check_ipv4 = field_validator("accessIPv4")(_ipv4)
    _check_ipv6 = field_validator("accessIPv6")(_ipv6)


class Rebuild(Strict):
    imageRef: str
    name: str | None = Field(None, min_length=1, max_length=255)
    adminPass: str | None = None
    metadata: dict[str, str] | None = None
    description: str | None = Field(None, max_length=255)
    key_name: str | None = None
    user_data: str | None = Field(None, max_length=65535)
    preserve_ephemeral: bool | None = None
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    hostname: str | None = None
    trusted_image_certificates: list[str] | None = None
    personality: list[dict[str, Any]] | None = None
    OS_DCF_diskConfig: Literal["AUTO", "MANUAL"] | None = Field(None, alias="OS-DCF:diskConfig")

    _check_ipv4 = field_validator("accessIPv4")(_ipv4)
    _check_ipv6 = field_validator("accessIPv6")(_ipv6)


class Rescue(Strict):
    adminPass: str | None = None
    rescue_image_ref: str | None = None

    @field_validator("rescue_image_ref")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                uuid.UUID(value)
            except ValueError:
                raise ValueError(f"'{value}' is not a 'uuid'") from None
        return value


class Resize(Strict):
    flavorRef: str | int
    OS_DCF_diskConfig: Literal["AUTO", "MANUAL"] | None = Field(None, alias="OS-DCF:diskConfig")


class CreateImage(Strict):
    name: str = Field(min_length=1, max_length=255)
    metadata: dict[str, str] = Field(default_factory=dict)


class CreateBackup(Strict):
    name: str = Field(min_length=1, max_length=255)
    backup_type: str
    rotation: int = Field(ge=0)
    metadata: dict[str, str] = Field(default_factory=dict)


class FlavorCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    id: str | int | None = None
    ram: int = Field(ge=1)
    vcpus: int = Field(ge=1)
    disk: int = Field(ge=0)
    OS_FLV_EXT_DATA_ephemeral: int = Field(0, ge=0, alias="OS-FLV-EXT-DATA:ephemeral")
    swap: int | str = 0
    rxtx_factor: float = Field(1.0, gt=0)
    os_flavor_access_is_public: bool = Field(True, alias="os-flavor-access:is_public")
    description: str | None = Field(None, max_length=65535)

    _check_name = field_validator("name")(_name)


class FlavorUpdate(Strict):
    description: str | None = Field(max_length=65535)


class KeypairCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    public_key: str | None = None
    type: str | None = Field(None, pattern="^(ssh|x509)$")
    user_id: str | None = None


class ServerGroupCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    policies: list[str] | None = Field(None, min_length=1, max_length=1)
    policy: str | None = None
    rules: dict[str, Any] | None = None


class QuotaUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    force: bool | None = None


class ServiceUpdate(Strict):
    status: str | None = Field(None, pattern="^(enabled|disabled)$")
    disabled_reason: str | None = Field(None, max_length=255)
    forced_down: bool | None = None
