"""The host-wide owner records: keyed by state directory, live only while their process runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from onestack.common import owners


def test_claim_records_this_process_and_is_alive(tmp_path: Path) -> None:
    root = tmp_path / "owners"
    state = tmp_path / "cloud-a"
    owner = owners.claim(state, root=root)
    assert owner.state_dir == state.absolute()
    assert owner.alive()
    assert owner.started == owners.start_time(owner.pid or 0)
    assert [o.key for o in owners.all_owners(root)] == [owners.key_of(state)]
    assert owners.read(state, root) == owner


def test_a_record_of_an_ended_process_is_not_alive(tmp_path: Path) -> None:
    root = tmp_path / "owners"
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    owner = owners.claim(tmp_path / "gone", pid=child.pid, root=root)
    assert not owner.alive()
    # its state directory was never made: nobody else will clean up after it
    assert owner.orphaned()
    (tmp_path / "gone").mkdir()
    owners.record_dir(tmp_path / "gone", root)  # marks the directory as the cloud's
    assert not owner.orphaned()
    # `rm -rf` that leaves busy mount points behind: the directory is there, its cloud gone
    (tmp_path / "gone" / owners.MARKER).unlink()
    assert owner.orphaned()


def test_a_reused_pid_is_not_the_recorded_process(tmp_path: Path) -> None:
    owner = owners.claim(tmp_path / "cloud", root=tmp_path / "owners")
    changed = owners.Owner(owner.directory, owner.state_dir, owner.pid, (owner.started or 0) + 1)
    assert not changed.alive()


def test_each_state_directory_has_its_own_record_and_registry(tmp_path: Path) -> None:
    root = tmp_path / "owners"
    first = owners.record_dir(tmp_path / "a", root)
    second = owners.record_dir(tmp_path / "b", root)
    assert first != second
    (first / "network").mkdir()
    (first / "network" / "osnet-x").touch()
    records = {o.state_dir.name: o for o in owners.all_owners(root)}
    assert records["a"].names("network") == {"osnet-x"}
    assert records["b"].names("network") == set()
    # a record made for the registry only has no process: never alive
    assert records["b"].pid is None and not records["b"].alive()


def test_public_range_is_kept_across_claims(tmp_path: Path) -> None:
    root = tmp_path / "owners"
    state = tmp_path / "cloud"
    owners.claim(state, root=root)
    owners.set_public_cidr(state, "172.24.5.0/24", root)
    assert owners.claim(state, root=root).public_cidr == "172.24.5.0/24"


def test_forget_removes_the_record(tmp_path: Path) -> None:
    root = tmp_path / "owners"
    owner = owners.claim(tmp_path / "cloud", root=root)
    owners.forget(owner)
    assert owners.all_owners(root) == []
    assert owners.read(tmp_path / "cloud", root) is None


def test_unreadable_records_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "owners"
    (root / "junk").mkdir(parents=True)
    (root / "junk" / owners.RECORD).write_text("{not json")
    owners.claim(tmp_path / "cloud", root=root)
    assert [o.state_dir.name for o in owners.all_owners(root)] == ["cloud"]
