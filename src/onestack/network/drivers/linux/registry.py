"""What this onestack created on the host: one marker file per namespace or device.

Several clouds (or test runs) can share a host; each agent only ever
removes what its own registry lists, so one never takes away another's
namespaces.  ``onestack doctor`` and ``onestack down`` read the same registry.
It lives in the cloud's host-wide owner record (``onestack.common.owners``),
not in the state directory, so that what a cloud made can still be found
after its state directory was deleted.
"""

from __future__ import annotations

from pathlib import Path

from onestack.common import owners


class Registry:
    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def add(self, name: str) -> None:
        if self.directory is not None and not (self.directory / name).exists():
            (self.directory / name).touch()

    def discard(self, name: str) -> None:
        if self.directory is not None:
            (self.directory / name).unlink(missing_ok=True)

    def names(self) -> set[str]:
        if self.directory is None or not self.directory.is_dir():
            return set()
        return {p.name for p in self.directory.iterdir()}


def registry_dir(state_dir: Path) -> Path:
    """The registry of the cloud of ``state_dir`` (in its owner record); names a registry
    of an older onestack kept in the state directory are moved there."""
    directory = owners.record_dir(state_dir) / "network"
    legacy = state_dir / "network" / "owned"
    if legacy.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        for entry in legacy.iterdir():
            (directory / entry.name).touch()
            entry.unlink()
        legacy.rmdir()
    return directory
