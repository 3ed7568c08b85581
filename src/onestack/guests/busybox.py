"""Build the ``onestack-busybox`` image: a raw ext4 filesystem, no root needed.

The tree (busybox-static and its applet links, an init script, a udhcpc
script, /etc basics) is assembled in a temporary directory and turned into an
ext4 image with ``mkfs.ext4 -d`` (e2fsprogs); when not running as root,
``debugfs`` then gives every file to root.  Timestamps, the filesystem UUID
and the directory hash seed are fixed, so the same busybox gives the same
bytes.  docs/image-format.md describes the result.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

NAME = "onestack-busybox"
IMAGE_FILE = "onestack-busybox.raw"
SIZE_MIB = 32
#: fixed so that a rebuild from the same busybox gives identical bytes
FS_UUID = "6f6e6573-7461-636b-2d62-757379626f78"
EPOCH = 1767225600  # 2026-01-01T00:00:00Z
PROPERTIES = {
    "os_distro": "busybox",
    "onestack_rootfs": "ext4",
    "hw_disk_bus": "virtio",
    "os_type": "linux",
    "architecture": "x86_64",
}
MIN_DISK_GIB = 1
MIN_RAM_MIB = 16
#: Debian 12's ext4 defaults, spelled out so the host's mke2fs.conf does not matter
FEATURES = (
    "has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize,"
    "ext_attr,resize_inode,dir_index,filetype,sparse_super,large_file"
)
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
DIRS = (
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "usr/share/udhcpc",
    "etc",
    "root",
    "root/.ssh",
    "dev",
    "proc",
    "sys",
    "tmp",
    "run",
    "mnt",
    "var",
    "var/log",
    "home",
)
FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
    "etc/group": "root:x:0:\n",
    "etc/shadow": "root:*:20000:0:99999:7:::\n",
    "etc/hostname": "onestack\n",
    "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
    "etc/resolv.conf": "",
    "etc/shells": "/bin/sh\n",
    "etc/os-release": 'NAME="onestack busybox"\nID=busybox\nPRETTY_NAME="onestack busybox"\n',
    "etc/profile": "export PATH=/sbin:/bin:/usr/sbin:/usr/bin\nexport PS1='\\h:\\w\\$ '\n",
}


class BuildError(RuntimeError):
    """The image cannot be built here (a tool or busybox is missing)."""


@dataclass(frozen=True)
class BuiltImage:
    path: Path
    busybox: Path
    applets: int


def is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a program interpreter (statically linked)."""
    with open(path, "rb") as handle:
        header = handle.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2:
            return False
        endian = "<" if header[5] == 1 else ">"
        (phoff,) = struct.unpack_from(endian + "Q", header, 32)
        phentsize, phnum = struct.unpack_from(endian + "HH", header, 54)
        handle.seek(phoff)
        table = handle.read(phentsize * phnum)
    for index in range(phnum):
        (p_type,) = struct.unpack_from(endian + "I", table, index * phentsize)
        if p_type == 3:  # PT_INTERP
            return False
    return True


def find_busybox() -> Path:
    """Debian's busybox-static, else a static busybox on PATH."""
    found = [Path(p) for p in BUSYBOX_CANDIDATES]
    which = shutil.which("busybox")
    if which:
        found.append(Path(which))
    for path in found:
        if path.is_file() and is_static_elf(path):
            return path
    raise BuildError(
        "no statically linked busybox found: install the Debian package busybox-static"
    )


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        raise BuildError(f"{name} not found: install the Debian package e2fsprogs")
    return path


def _script(name: str) -> str:
    return resources.files("onestack.guests").joinpath(name).read_text()


def build_tree(root: Path, busybox: Path) -> int:
    """Lay out the root filesystem under ``root``; returns the number of applet links."""
    for directory in DIRS:
        (root / directory).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    os.chmod(root / "root", 0o700)
    os.chmod(root / "root/.ssh", 0o700)
    shutil.copyfile(busybox, root / "bin/busybox")
    os.chmod(root / "bin/busybox", 0o755)
    listing = subprocess.run(
        [str(busybox), "--list-full"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    count = 0
    for line in sorted(set(listing.split())):
        target = root / line.strip("/")
        if line.strip("/") in ("bin/busybox", "sbin/init", "linuxrc") or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to("/bin/busybox")
        count += 1
    if not (root / "bin/sh").is_symlink():
        (root / "bin/sh").symlink_to("/bin/busybox")
    for name, text in FILES.items():
        (root / name).write_text(text)
    os.chmod(root / "etc/shadow", 0o600)
    (root / "var/run").symlink_to("/run")
    (root / "sbin/init").write_text(_script("init.sh"))
    (root / "usr/share/udhcpc/default.script").write_text(_script("udhcpc.sh"))
    if not (root / "usr/bin/curl").exists():
        (root / "usr/bin/curl").write_text(_script("curl.sh"))
        os.chmod(root / "usr/bin/curl", 0o755)
    os.chmod(root / "sbin/init", 0o755)
    os.chmod(root / "usr/share/udhcpc/default.script", 0o755)
    for path in [root, *root.rglob("*")]:
        os.utime(path, (EPOCH, EPOCH), follow_symlinks=False)
    return count


def _normalise_inodes(image: Path, tree: Path) -> None:
    """Give every inode to root and the fixed timestamps, with debugfs.

    mkfs copies the builder's uid (not root's when building without root) and
    the tree's change times (the moment of the build); both would make the
    image depend on who built it and when.
    """
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(EPOCH))
    lines = []
    for path in [tree, *sorted(tree.rglob("*"))]:
        name = "/" + str(path.relative_to(tree)) if path != tree else "/"
        if os.geteuid() != 0:
            lines += [f'sif "{name}" uid 0', f'sif "{name}" gid 0']
        lines.append(f'sif "{name}" ctime {stamp}')
    with tempfile.NamedTemporaryFile("w", suffix=".debugfs") as script:
        script.write("\n".join(lines) + "\n")
        script.flush()
        subprocess.run(
            [_tool("debugfs"), "-w", "-f", script.name, str(image)],
            env={**os.environ, "E2FSPROGS_FAKE_TIME": str(EPOCH)},
            capture_output=True,
            check=True,
            timeout=120,
        )


def build(output: Path, *, size_mib: int = SIZE_MIB, busybox: Path | None = None) -> BuiltImage:
    """Build the image at ``output`` (written to a temporary file, then renamed)."""
    busybox = busybox or find_busybox()
    if not is_static_elf(busybox):
        raise BuildError(f"{busybox} is not a statically linked busybox")
    mkfs = _tool("mkfs.ext4")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=output.parent) as work:
        tree = Path(work) / "tree"
        tree.mkdir()
        applets = build_tree(tree, busybox)
        temp = Path(work) / IMAGE_FILE
        with open(temp, "wb") as handle:
            handle.truncate(size_mib << 20)
        env = {**os.environ, "E2FSPROGS_FAKE_TIME": str(EPOCH), "MKE2FS_CONFIG": "/dev/null"}
        command = [
            mkfs,
            "-q",
            "-F",
            "-t",
            "ext4",
            "-b",
            "4096",
            "-m",
            "0",
            "-L",
            "onestack-root",
            "-U",
            FS_UUID,
            "-E",
            f"hash_seed={FS_UUID},root_owner=0:0,lazy_itable_init=0",
            "-I",
            "256",
            "-O",
            FEATURES,
            "-d",
            str(tree),
            str(temp),
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise BuildError(f"mkfs.ext4 failed: {done.stderr.strip()}")
        _normalise_inodes(temp, tree)
        os.replace(temp, output)
    return BuiltImage(output, busybox, applets)
