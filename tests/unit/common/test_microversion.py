from __future__ import annotations

import pytest

from onestack.common.exceptions import BadRequest, NotAcceptable
from onestack.common.microversion import APIVersion, MicroversionSpec

SPEC = MicroversionSpec(
    "compute", APIVersion(2, 1), APIVersion(2, 90), legacy_header="X-OpenStack-Nova-API-Version"
)


def test_default_is_minimum() -> None:
    assert SPEC.negotiate({}) == APIVersion(2, 1)


def test_modern_header_and_latest() -> None:
    assert SPEC.negotiate({"openstack-api-version": "compute 2.37"}) == APIVersion(2, 37)
    assert SPEC.negotiate({"openstack-api-version": "volume 3.5, compute latest"}) == APIVersion(
        2, 90
    )


def test_legacy_header() -> None:
    assert SPEC.negotiate({"x-openstack-nova-api-version": "2.10"}) == APIVersion(2, 10)


def test_other_service_in_header_is_ignored() -> None:
    assert SPEC.negotiate({"openstack-api-version": "volume 3.5"}) == APIVersion(2, 1)


def test_out_of_range_is_406_and_malformed_is_400() -> None:
    with pytest.raises(NotAcceptable):
        SPEC.negotiate({"openstack-api-version": "compute 2.99"})
    with pytest.raises(NotAcceptable):
        SPEC.negotiate({"openstack-api-version": "compute 3.0"})
    with pytest.raises(BadRequest):
        SPEC.negotiate({"openstack-api-version": "compute two"})


def test_ordering_and_matches() -> None:
    assert APIVersion(2, 10) > APIVersion(2, 9)
    assert APIVersion.parse("2.37").matches("2.37", "2.90")
    assert not APIVersion.parse("2.36").matches("2.37")
    headers = dict(SPEC.response_headers(APIVersion(2, 5)))
    assert headers[b"openstack-api-version"] == b"compute 2.5"
    assert headers[b"x-openstack-nova-api-version"] == b"2.5"
