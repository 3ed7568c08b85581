"""Copying a state directory's files the cheapest way the filesystem allows.

Three ways, chosen per file by the caller:

- ``link``: a hard link, for files that are never changed in place (image data,
  object replicas, unpacked image trees): onestack replaces such a file by writing
  a new one and renaming it, so the snapshot's inode never changes;
- ``clone``: a copy-on-write clone (the ``FICLONE`` ioctl, what ``cp
  --reflink=always`` does) on XFS with reflink or btrfs, else a sparse copy that
  copies only the data extents (``SEEK_DATA``/``SEEK_HOLE`` and
  ``copy_file_range``), for files that change in place (volumes, instance disks);
- a directory tree is walked with :func:`copy_tree`, which asks a ``Rule`` what
  to do with each path (skip it, link it or clone it).

A file that disappears while it is copied (a running cloud replaced it) is
skipped: the database copy, made first, decides what exists.  :class:`Counts`
says how many files and bytes went each way.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

#: the FICLONE ioctl (linux/fs.h: _IOW(0x94, 9, int))
FICLONE = 0x40049409

_NO_CLONE = {errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.EPERM}


class How(Enum):
    SKIP = "skip"
    LINK = "link"
    CLONE = "clone"


#: what to do with a path, given relative to the tree's root (as a POSIX string)
Rule = Callable[[str], How]


class LinkSink(Protocol):
    """Where ``copy_tree`` puts what the rule links (``links.LinkStore``)."""

    def add_tree(self, path: str, relative: str, counts: Counts) -> None: ...

    def add_file(self, path: str, relative: str, counts: Counts) -> None: ...


@dataclass
class Counts:
    linked: int = 0
    reflinked: int = 0
    copied: int = 0
    bytes: int = 0
    #: files a restore found already equal to the saved ones (same inode)
    unchanged: int = 0

    @property
    def files(self) -> int:
        return self.linked + self.reflinked + self.copied + self.unchanged

    def add(self, other: Counts) -> None:
        self.linked += other.linked
        self.reflinked += other.reflinked
        self.copied += other.copied
        self.bytes += other.bytes
        self.unchanged += other.unchanged

    def as_dict(self) -> dict[str, int]:
        return {
            "files": self.files,
            "linked": self.linked,
            "reflinked": self.reflinked,
            "copied": self.copied,
            "unchanged": self.unchanged,
            "bytes": self.bytes,
        }


def _sparse_copy(src_fd: int, dst_fd: int, size: int) -> None:
    """Copy only the data extents of ``src_fd``; holes stay holes."""
    offset = 0
    while offset < size:
        try:
            start = os.lseek(src_fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole remains
                break
            raise
        end = os.lseek(src_fd, start, os.SEEK_HOLE)
        position = start
        while position < end:
            done = os.copy_file_range(src_fd, dst_fd, end - position, position, position)
            if done == 0:
                break
            position += done
        offset = end
    os.ftruncate(dst_fd, size)


def clone_file(src: Path, dst: Path, counts: Counts) -> None:
    """``dst`` as a new file with ``src``'s bytes, mode and times (reflink or sparse copy).

    ``dst`` must not exist.  After a failure ``dst`` is removed.
    """
    src_fd = os.open(src, os.O_RDONLY)
    try:
        info = os.fstat(src_fd)
        dst_fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IMODE(info.st_mode))
        try:
            try:
                fcntl.ioctl(dst_fd, FICLONE, src_fd)
                counts.reflinked += 1
            except OSError as exc:
                if exc.errno not in _NO_CLONE:
                    raise
                _sparse_copy(src_fd, dst_fd, info.st_size)
                counts.copied += 1
            counts.bytes += info.st_size
        except BaseException:
            os.close(dst_fd)
            dst.unlink(missing_ok=True)
            raise
        os.close(dst_fd)
        copy_xattrs(src, dst)
        os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))
        if os.geteuid() == 0:
            os.chown(dst, info.st_uid, info.st_gid)
    finally:
        os.close(src_fd)


def copy_xattrs(src: Path | str, dst: Path | str) -> None:
    """The extended attributes of ``src`` on ``dst`` (an overlay layer's ``trusted.overlay.*``
    marks opaque directories); a filesystem without them is not an error."""
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.ENODATA):
            return
        raise
    for name in names:
        try:
            os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False),
                        follow_symlinks=False)  # fmt: skip
        except OSError as exc:
            if exc.errno not in (errno.ENOTSUP, errno.EPERM, errno.ENODATA):
                raise


def _special(src: os.DirEntry[str], dst: Path) -> None:
    """A character or block device (an overlay whiteout is the device 0:0) or a FIFO
    made again; sockets belong to running processes and are not copied."""
    info = src.stat(follow_symlinks=False)
    if stat.S_ISFIFO(info.st_mode):
        os.mkfifo(dst, stat.S_IMODE(info.st_mode))
    elif stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
        if os.geteuid() != 0:
            return
        os.mknod(dst, info.st_mode, info.st_rdev)
    else:
        return
    copy_xattrs(src.path, dst)
    if os.geteuid() == 0:
        os.chown(dst, info.st_uid, info.st_gid, follow_symlinks=False)


def link_file(src: Path, dst: Path, counts: Counts) -> None:
    """``dst`` as a hard link of ``src``; a clone where linking is impossible."""
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EMLINK, errno.EPERM):
            raise
        clone_file(src, dst, counts)
        return
    counts.linked += 1
    counts.bytes += os.stat(dst).st_size


def copy_tree(
    src: Path, dst: Path, rule: Rule, prefix: str = "", links: LinkSink | None = None
) -> Counts:
    """Copy the tree under ``src`` into ``dst`` (made as needed) as ``rule`` says.

    ``prefix`` is ``src``'s path relative to the root the rule knows.  Regular files
    are linked or cloned, symbolic links, devices (overlay whiteouts) and FIFOs made
    again, directories made with their mode, owner and extended attributes; sockets
    are skipped.  Files that vanish meanwhile are skipped.  With ``links``, what the
    rule links (a file or a whole directory) goes there instead of into ``dst``.
    """
    counts = Counts()
    try:
        entries = list(os.scandir(src))
    except FileNotFoundError:
        return counts
    dst.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        try:
            if entry.is_symlink():
                if rule(relative) is not How.SKIP:
                    os.symlink(os.readlink(entry.path), dst / entry.name)
            elif entry.is_dir():
                how = rule(relative + "/")
                if how is How.SKIP:
                    continue
                if how is How.LINK and links is not None:
                    links.add_tree(entry.path, relative + "/", counts)
                    continue
                target = dst / entry.name
                counts.add(copy_tree(Path(entry.path), target, rule, relative + "/", links))
                if not target.is_dir():
                    continue
                copy_xattrs(entry.path, target)
                shutil.copystat(entry.path, target)
                if os.geteuid() == 0:
                    info = entry.stat()
                    os.chown(target, info.st_uid, info.st_gid)
            elif entry.is_file():
                how = rule(relative)
                if how is How.LINK and links is not None:
                    links.add_file(entry.path, relative, counts)
                elif how is How.LINK:
                    link_file(Path(entry.path), dst / entry.name, counts)
                elif how is How.CLONE:
                    clone_file(Path(entry.path), dst / entry.name, counts)
            elif rule(relative) is not How.SKIP:
                _special(entry, dst / entry.name)
        except FileNotFoundError:
            continue
    return counts


def remove_tree_files(root: Path, rule: Rule, prefix: str = "") -> None:
    """Remove everything under ``root`` that ``rule`` does not skip (bottom-up);
    directories left empty by it are removed too."""
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            if rule(relative + "/") is How.SKIP:
                continue
            remove_tree_files(Path(entry.path), rule, relative + "/")
            try:
                os.rmdir(entry.path)
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.EBUSY):
                    raise
        elif rule(relative) is not How.SKIP:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
