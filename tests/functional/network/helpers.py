"""Shared helpers of the networking functional tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions

from tests.support.names import unique as unique


def neutron_error(call: Callable[[], Any], status: int, error_type: str) -> dict[str, Any]:
    """Run ``call``, expect an HTTP error with ``status`` and Neutron ``type``; return the body."""
    with pytest.raises(exceptions.HttpException) as info:
        call()
    assert info.value.status_code == status, info.value
    assert info.value.response is not None
    body = info.value.response.json()["NeutronError"]
    assert body["type"] == error_type, body
    assert body["message"]
    assert body["detail"] == ""
    return dict(body)
