"""The object service's background passes while the server runs.

Each pass (replicator, auditor, expirer, container-update retry) runs in a
worker thread on its own interval from ``ObjectSettings``; a failing pass is
logged and retried at the next interval, never stopping the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from onestack.object.manager import ObjectManager

LOG = logging.getLogger(__name__)


async def _every(name: str, interval: float, work: Callable[[], Any]) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(work)
        except Exception:
            LOG.exception("object %s pass failed", name)


def start_tasks(manager: ObjectManager) -> list[asyncio.Task[None]]:
    conf = manager.conf

    def expire_and_update() -> None:
        manager.update_pending_once()
        manager.expire_once()

    passes: list[tuple[str, float, Callable[[], Any]]] = [
        ("replicator", conf.replicator_interval, manager.replicate_once),
        ("auditor", conf.auditor_interval, manager.audit_once),
        ("expirer", conf.expirer_interval, expire_and_update),
    ]
    return [
        asyncio.create_task(_every(name, interval, work), name=f"object-{name}")
        for name, interval, work in passes
        if interval > 0
    ]


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
