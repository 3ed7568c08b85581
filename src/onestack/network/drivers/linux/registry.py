"""What this onestack created on the host: one marker file per namespace or device.

Several clouds (or test runs) can share a host; each agent only ever
removes what its own registry lists, so one never takes away another's
namespaces.  ``onestack doctor`` reads the same registry.
"""

from __future__ import annotations

from pathlib import Path


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
    return state_dir / "network" / "owned"
