"""The hard-linked part of a snapshot: a flat store and an index of the trees it came from.

Areas whose files onestack never changes in place (image data, object replicas,
unpacked images) are saved as hard links in one flat directory (``links/0``,
``links/1``, ...) plus an index of every entry of their trees (directories with
their mode and owner, files with their link number and inode, symbolic links,
device nodes), so that saving costs one ``link()`` per file and no directory
is made; on ext4 under load a ``mkdir`` costs far more than a ``link``, and an
object store has as many directories as objects.

Restoring is a difference: a live file that is still the saved inode is kept, a
missing or different one is linked again, an entry the snapshot does not have
is removed, a missing directory is made with its saved mode and owner.  An
unchanged area costs one ``lstat`` per entry.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from onestack.snapshots.copy import Counts, How, Rule, clone_file

INDEX_FILE = "links.json"


class LinkStore:
    """Saves link areas into ``directory`` (made here) and their index."""

    def __init__(self, directory: Path, rule: Rule) -> None:
        self.directory = directory
        self.rule = rule
        self.entries: list[list[Any]] = []
        self.files = 0
        directory.mkdir()

    def add_tree(self, path: str, relative: str, counts: Counts) -> None:
        """The directory ``path`` (``relative`` ends with "/") and everything under it
        that the rule does not skip."""
        try:
            info = os.lstat(path)
            entries = list(os.scandir(path))
        except FileNotFoundError:
            return
        self.entries.append(["d", relative, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid])
        for entry in entries:
            name = relative + entry.name
            try:
                if entry.is_symlink():
                    self.entries.append(["l", name, os.readlink(entry.path)])
                elif entry.is_dir():
                    if self.rule(name + "/") is not How.SKIP:
                        self.add_tree(entry.path, name + "/", counts)
                elif self.rule(name) is How.SKIP:
                    continue
                elif entry.is_file():
                    self.add_file(entry.path, name, counts)
                else:
                    item = entry.stat(follow_symlinks=False)
                    if stat.S_ISSOCK(item.st_mode):
                        continue
                    self.entries.append(
                        ["c", name, item.st_mode, item.st_rdev, item.st_uid, item.st_gid]
                    )
            except FileNotFoundError:
                continue

    def add_file(self, path: str, relative: str, counts: Counts) -> None:
        target = self.directory / str(self.files)
        try:
            os.link(path, target)
            counts.linked += 1
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EMLINK, errno.EPERM):
                raise
            clone_file(Path(path), target, counts)
        info = os.stat(target)
        counts.bytes += info.st_size
        self.entries.append(["f", relative, self.files, info.st_ino])
        self.files += 1

    def write(self, path: Path) -> None:
        with open(path, "w") as handle:
            json.dump(self.entries, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())


def read_index(path: Path) -> list[list[Any]]:
    try:
        with open(path) as handle:
            return list(json.load(handle))
    except FileNotFoundError:
        return []


def wanted(entries: list[list[Any]]) -> set[str]:
    return {str(entry[1]) for entry in entries}


def prune(root: Path, rule: Rule, keep: set[str], prefix: str = "") -> None:
    """Remove what a restore replaces under ``root``: every file the rule copies, and
    in link areas every entry not in ``keep``; directories left empty go too."""
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            how = rule(relative + "/")
            if how is How.SKIP:
                continue
            if how is How.LINK and relative + "/" not in keep:
                shutil.rmtree(entry.path)
                continue
            prune(Path(entry.path), rule, keep, relative + "/")
            if how is How.CLONE:
                try:
                    os.rmdir(entry.path)
                except OSError as exc:
                    if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.EBUSY):
                        raise
            continue
        how = rule(relative)
        if how is How.SKIP or (how is How.LINK and relative in keep):
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            continue


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def restore_links(root: Path, store: Path, entries: list[list[Any]], counts: Counts) -> int:
    """Make the link areas under ``root`` what ``entries`` say (after ``prune``);
    returns how many files were already the saved ones."""
    unchanged = 0
    as_root = os.geteuid() == 0
    for entry in entries:
        kind, relative = entry[0], str(entry[1])
        path = root / relative.rstrip("/")
        try:
            live: os.stat_result | None = os.lstat(path)
        except FileNotFoundError:
            live = None
        if kind == "d":
            if live is not None and stat.S_ISDIR(live.st_mode):
                continue
            if live is not None:
                _remove(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(path)
            os.chmod(path, int(entry[2]))
            if as_root:
                os.chown(path, int(entry[3]), int(entry[4]))
        elif kind == "f":
            if live is not None and stat.S_ISREG(live.st_mode) and live.st_ino == int(entry[3]):
                unchanged += 1
                counts.bytes += live.st_size
                continue
            if live is not None:
                _remove(path)
            source = store / str(entry[2])
            os.link(source, path)
            counts.linked += 1
            counts.bytes += os.stat(path).st_size
        elif kind == "l":
            if live is not None and stat.S_ISLNK(live.st_mode) and os.readlink(path) == entry[2]:
                continue
            if live is not None:
                _remove(path)
            os.symlink(str(entry[2]), path)
        elif kind == "c":
            if live is not None and live.st_mode == entry[2] and live.st_rdev == entry[3]:
                continue
            if live is not None:
                _remove(path)
            if as_root:
                os.mknod(path, int(entry[2]), int(entry[3]))
                os.chown(path, int(entry[4]), int(entry[5]), follow_symlinks=False)
    return unchanged
