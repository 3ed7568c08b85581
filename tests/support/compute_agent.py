"""One compute agent in a process of its own: ``python -m tests.support.compute_agent``.

For tests of an agent on "another host": it runs ``onestack.compute.service.
run_host`` with the settings of its ``ONESTACK_*`` environment (its own state
directory, the control plane's database, bus and identity URL, the service
user's password), writes its PID to ``$ONESTACK_TEST_READY_FILE`` once it
serves, and stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

from onestack.compute.service import run_host
from onestack.config import load_settings


async def _main() -> None:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ready_file = Path(os.environ["ONESTACK_TEST_READY_FILE"])
    await run_host(settings, stop, lambda: ready_file.write_text(str(os.getpid())))


if __name__ == "__main__":
    asyncio.run(_main())
