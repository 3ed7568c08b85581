"""Microversion negotiation (``OpenStack-API-Version``).

A service declares its service type, its minimum and maximum versions and,
where it has one, its legacy header (``X-OpenStack-Nova-API-Version``).  A
request without a header gets the minimum; ``latest`` gets the maximum; a
version outside the range is refused with 406, a malformed one with 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Self

from onestack.common.exceptions import BadRequest, NotAcceptable

_VERSION = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


@total_ordering
@dataclass(frozen=True)
class APIVersion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Self:
        match = _VERSION.match(text.strip())
        if not match:
            raise BadRequest(f"Version string {text!r} is not of the form X.Y.")
        return cls(int(match.group(1)), int(match.group(2)))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, APIVersion):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def matches(self, minimum: str | None = None, maximum: str | None = None) -> bool:
        if minimum is not None and self < APIVersion.parse(minimum):
            return False
        return not (maximum is not None and self > APIVersion.parse(maximum))


@dataclass(frozen=True)
class MicroversionSpec:
    service_type: str
    minimum: APIVersion
    maximum: APIVersion
    legacy_header: str | None = None
    #: other names clients use for this service in the header ("volume" for block-storage)
    aliases: tuple[str, ...] = ()

    def negotiate(self, headers: dict[str, str]) -> APIVersion:
        """The version a request asks for; ``headers`` has lower-case names."""
        requested: str | None = None
        modern = headers.get("openstack-api-version")
        if modern:
            names = {self.service_type, *self.aliases}
            for item in modern.split(","):
                parts = item.strip().split(None, 1)
                if len(parts) == 2 and parts[0].lower() in names:
                    requested = parts[1].strip()
                    break
        if requested is None and self.legacy_header:
            requested = headers.get(self.legacy_header.lower())
        if not requested:
            return self.minimum
        if requested.lower() == "latest":
            return self.maximum
        version = APIVersion.parse(requested)
        if not self.minimum <= version <= self.maximum:
            raise NotAcceptable(
                f"Version {version} is not supported by the API. Minimum is {self.minimum} "
                f"and maximum is {self.maximum}."
            )
        return version

    def response_headers(self, version: APIVersion) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"openstack-api-version", f"{self.service_type} {version}".encode()),
            (b"vary", b"OpenStack-API-Version"),
        ]
        if self.legacy_header:
            headers.append((self.legacy_header.lower().encode(), str(version).encode()))
            headers[1] = (b"vary", f"OpenStack-API-Version, {self.legacy_header}".encode())
        return headers
