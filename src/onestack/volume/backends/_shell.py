"""Running the host tools the backends use (losetup, cp, qemu-img, mkfs, mount)."""

from __future__ import annotations

import logging
import subprocess

from onestack.volume.exceptions import CommandFailed

LOG = logging.getLogger(__name__)


def run(*args: str, timeout: float = 600.0, check: bool = True) -> str:
    """Run a command; its stdout, or CommandFailed with its stderr."""
    LOG.debug("running %s", " ".join(args))
    try:
        proc = subprocess.run(
            list(args), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CommandFailed(command=args[0], stderr=str(exc)) from None
    if check and proc.returncode != 0:
        raise CommandFailed(command=" ".join(args[:2]), stderr=proc.stderr.strip()[-500:])
    return proc.stdout
