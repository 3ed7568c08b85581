"""The data plane's registry lives in the cloud's host-wide owner record."""

from __future__ import annotations

from pathlib import Path

import pytest

from onestack.common import owners
from onestack.network.drivers.linux.registry import Registry, registry_dir


def test_the_registry_is_in_the_owner_record_not_the_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONESTACK_OWNERS_DIR", str(tmp_path / "owners"))
    state = tmp_path / "cloud"
    state.mkdir()
    Registry(registry_dir(state)).add("osnet-1")
    (record,) = owners.all_owners()
    assert record.state_dir == state and record.names("network") == {"osnet-1"}
    assert (state / owners.MARKER).exists()
    assert not (state / "network" / "owned").exists()


def test_an_older_registry_in_the_state_directory_moves_into_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONESTACK_OWNERS_DIR", str(tmp_path / "owners"))
    state = tmp_path / "cloud"
    legacy = state / "network" / "owned"
    legacy.mkdir(parents=True)
    (legacy / "osrtr-1").touch()
    (legacy / "osx-2").touch()
    assert Registry(registry_dir(state)).names() == {"osrtr-1", "osx-2"}
    assert not legacy.exists()
