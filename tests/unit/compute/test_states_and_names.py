"""Status mapping and hostname rules, as Nova defines them."""

from __future__ import annotations

import pytest

from onestack.compute import states
from onestack.compute.servers import sanitize_hostname


@pytest.mark.parametrize(
    ("vm_state", "task_state", "status"),
    [
        ("active", None, "ACTIVE"),
        ("building", "scheduling", "BUILD"),
        ("active", "rebooting", "REBOOT"),
        ("active", "rebooting_hard", "HARD_REBOOT"),
        ("stopped", None, "SHUTOFF"),
        ("resized", None, "VERIFY_RESIZE"),
        ("resized", "resize_reverting", "REVERT_RESIZE"),
        ("active", "resize_prep", "RESIZE"),
        ("error", "rebuilding", "REBUILD"),
        ("paused", None, "PAUSED"),
        ("suspended", None, "SUSPENDED"),
        ("deleted", None, "DELETED"),
        ("active", "deleting", "ACTIVE"),
    ],
)
def test_status_mapping(vm_state: str, task_state: str | None, status: str) -> None:
    assert states.status(vm_state, task_state) == status


def test_status_filter_selects_vm_states() -> None:
    assert states.vm_states_for_status("shutoff") == ["stopped"]
    assert states.vm_states_for_status("NOPE") == []


@pytest.mark.parametrize(
    ("name", "hostname"),
    [("Web Server_1", "web-server-1"), ("---", "server"), ("a.b", "a-b"), ("x" * 80, "x" * 63)],
)
def test_hostname_from_name(name: str, hostname: str) -> None:
    assert sanitize_hostname(name) == hostname
