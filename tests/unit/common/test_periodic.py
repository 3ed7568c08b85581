"""The one periodic-task runner: schedule, isolation of failures, no overlap, stop."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from onestack.common.periodic import PeriodicTask, TaskRunner


def test_sync_and_async_tasks_run_repeatedly() -> None:
    counts = {"sync": 0, "async": 0}
    threads: set[str] = set()

    def sync_work() -> None:
        threads.add(threading.current_thread().name)
        counts["sync"] += 1

    async def async_work() -> None:
        counts["async"] += 1

    async def scenario() -> None:
        runner = TaskRunner(
            "test",
            [
                PeriodicTask("sync", 0.01, sync_work, initial_delay=0),
                PeriodicTask("async", 0.01, async_work, initial_delay=0),
            ],
        )
        runner.start()
        await asyncio.sleep(0.2)
        await runner.stop()

    asyncio.run(scenario())
    assert counts["sync"] >= 3 and counts["async"] >= 3
    assert threading.main_thread().name not in threads  # blocking work left the loop


def test_a_failing_task_is_logged_and_runs_again(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def broken() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    async def scenario() -> None:
        runner = TaskRunner("owner", [PeriodicTask("broken", 0.01, broken, initial_delay=0)])
        runner.start()
        await asyncio.sleep(0.15)
        await runner.stop()

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    assert calls >= 2
    record = next(r for r in caplog.records if "periodic task broken failed" in r.getMessage())
    assert record.exc_info is not None and "owner" in record.getMessage()


def test_a_task_never_overlaps_itself() -> None:
    active = 0
    most = 0

    async def slow() -> None:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.03)
        active -= 1

    async def scenario() -> None:
        runner = TaskRunner("t", [PeriodicTask("slow", 0.001, slow, initial_delay=0)])
        runner.start()
        await asyncio.sleep(0.15)
        await runner.stop()

    asyncio.run(scenario())
    assert most == 1


def test_run_now_raises_and_disabled_tasks_never_run() -> None:
    ran: list[str] = []

    def fails() -> None:
        raise ValueError("now")

    async def scenario() -> None:
        runner = TaskRunner(
            "t",
            [
                PeriodicTask("fails", 3600, fails),
                PeriodicTask("off", 0, lambda: ran.append("off"), initial_delay=0),
            ],
        )
        runner.start()
        with pytest.raises(ValueError, match="now"):
            await runner.run_now("fails")
        await asyncio.sleep(0.05)
        await runner.stop()
        with pytest.raises(ValueError, match="exists"):
            runner.add(PeriodicTask("off", 1, lambda: None))

    asyncio.run(scenario())
    assert ran == []
