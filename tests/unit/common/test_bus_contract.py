"""The bus contract, once, for every implementation (memory and RabbitMQ).

Each test runs a scenario with ``asyncio.run`` (no pytest-asyncio), on a fresh
bus and a topic of its own, so tests can run in parallel and against a shared
broker.  The RabbitMQ variant skips when nothing listens on 127.0.0.1:5672.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest

from onestack.common.bus import (
    Bus,
    InProcessBus,
    MessagingTimeout,
    Notification,
    RabbitBus,
    RemoteError,
    UnknownMethod,
)
from onestack.common.bus.rabbit import fanout_exchange_name, rpc_queue_name
from onestack.common.exceptions import NotFound, PolicyNotAuthorized

RABBIT_HOST, RABBIT_PORT = "127.0.0.1", 5672
RABBIT_URL = f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/"
#: The only server names the scenarios use (the RabbitMQ cleanup deletes their queues).
SERVERS = ("alpha", "beta")

Scenario = Callable[[Bus, str], Awaitable[None]]


def _rabbit_reachable() -> bool:
    try:
        with socket.create_connection((RABBIT_HOST, RABBIT_PORT), timeout=0.5):
            return True
    except OSError:
        return False


class Harness:
    """Runs a scenario on a started bus and a fresh topic; always cleans up."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def new_bus(self, *, drain_timeout: float = 5.0) -> Bus:
        if self.kind == "memory":
            return InProcessBus(drain_timeout=drain_timeout)
        return RabbitBus(RABBIT_URL, queue_expiry=60.0, drain_timeout=drain_timeout)

    def run(self, scenario: Scenario, *, drain_timeout: float = 5.0) -> None:
        asyncio.run(self._run(scenario, drain_timeout))

    async def _run(self, scenario: Scenario, drain_timeout: float) -> None:
        topic = f"test-{uuid.uuid4().hex[:16]}"
        bus = self.new_bus(drain_timeout=drain_timeout)
        await bus.start()
        try:
            await scenario(bus, topic)
        finally:
            await bus.stop()
            if self.kind == "rabbitmq":
                await _delete_broker_objects(topic)


async def _delete_broker_objects(topic: str) -> None:
    connection = await aio_pika.connect(RABBIT_URL)
    async with connection:
        channel = await connection.channel()
        for name in [rpc_queue_name(topic)] + [rpc_queue_name(topic, s) for s in SERVERS]:
            await channel.queue_delete(name)
        await channel.exchange_delete(fanout_exchange_name(topic))


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def harness(request: pytest.FixtureRequest) -> Harness:
    if request.param == "rabbitmq" and not _rabbit_reachable():
        pytest.skip(f"RabbitMQ is not reachable on {RABBIT_HOST}:{RABBIT_PORT}")
    return Harness(request.param)


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


class Endpoint:
    """What the scenarios serve; records what reached it."""

    def __init__(self, name: str = "alpha") -> None:
        self.name = name
        self.seen: list[Any] = []
        self.threads: list[int] = []
        self.release = asyncio.Event()

    async def add(self, a: int, b: int) -> int:
        return a + b

    def multiply(self, a: int, b: int) -> int:
        self.threads.append(threading.get_ident())
        return a * b

    async def echo(self, value: Any) -> Any:
        return value

    async def whoami(self) -> str:
        return self.name

    async def record(self, value: Any) -> None:
        self.seen.append(value)

    async def wait_for_release(self) -> str:
        self.seen.append("started")
        await self.release.wait()
        return "released"

    async def slow_record(self, value: Any) -> None:
        await asyncio.sleep(0.2)
        self.seen.append(value)

    def not_found(self) -> None:
        raise NotFound("Flavor m1.huge could not be found.")

    def forbidden(self) -> None:
        raise PolicyNotAuthorized(action="compute:delete")

    def value_error(self) -> None:
        raise ValueError("bad value")

    def unserialisable(self) -> object:
        return object()

    def _secret(self) -> str:
        return "secret"


# -- call ---------------------------------------------------------------------


def test_call_returns_the_result(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint())
        assert await bus.call(topic, "add", a=2, b=3) == 5

    harness.run(scenario)


def test_call_runs_sync_methods_in_a_worker_thread(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        endpoint = Endpoint()
        await bus.serve(topic, endpoint)
        assert await bus.call(topic, "multiply", a=4, b=5) == 20
        assert endpoint.threads and endpoint.threads[0] != threading.get_ident()

    harness.run(scenario)


def test_call_arguments_and_results_go_through_json(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint())
        value = {"tuple": (1, 2), "nested": {"none": None, "text": "é"}}
        assert await bus.call(topic, "echo", value=value) == {
            "tuple": [1, 2],
            "nested": {"none": None, "text": "é"},
        }

    harness.run(scenario)


def test_call_addresses_one_named_server(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint("alpha"), server="alpha")
        await bus.serve(topic, Endpoint("beta"), server="beta")
        answers = [await bus.call(topic, "whoami", server="beta") for _ in range(4)]
        assert answers == ["beta"] * 4

    harness.run(scenario)


def test_servers_on_one_topic_share_calls(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint("alpha"))
        await bus.serve(topic, Endpoint("beta"))
        answers = [await bus.call(topic, "whoami") for _ in range(4)]
        assert sorted(answers) == ["alpha", "alpha", "beta", "beta"]

    harness.run(scenario)


def test_calls_run_concurrently(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        endpoint = Endpoint()
        await bus.serve(topic, endpoint)
        first = asyncio.create_task(bus.call(topic, "wait_for_release", timeout=5))
        await eventually(lambda: endpoint.seen == ["started"])
        assert await bus.call(topic, "add", a=1, b=1, timeout=5) == 2  # not stuck behind it
        endpoint.release.set()
        assert await first == "released"

    harness.run(scenario)


# -- errors -------------------------------------------------------------------


def test_onestack_error_comes_back_as_the_same_class(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint())
        with pytest.raises(NotFound) as caught:
            await bus.call(topic, "not_found")
        assert type(caught.value) is NotFound
        assert caught.value.message == "Flavor m1.huge could not be found."
        assert str(caught.value) == "Flavor m1.huge could not be found."
        assert caught.value.code == 404

    harness.run(scenario)


def test_onestack_error_keeps_its_subclass_status_and_kwargs(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint())
        with pytest.raises(PolicyNotAuthorized) as caught:
            await bus.call(topic, "forbidden")
        assert caught.value.code == 403
        assert caught.value.message == (
            "You are not authorized to perform the requested action: compute:delete."
        )
        assert caught.value.kwargs == {"action": "compute:delete"}

    harness.run(scenario)


def test_other_exception_comes_back_as_remote_error(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint())
        with pytest.raises(RemoteError) as caught:
            await bus.call(topic, "value_error")
        assert caught.value.code == 500
        assert caught.value.exc_type == "ValueError"
        assert caught.value.value == "bad value"
        assert "ValueError" in caught.value.message and "bad value" in caught.value.message

    harness.run(scenario)


def test_unserialisable_result_comes_back_as_remote_error(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint())
        with pytest.raises(RemoteError) as caught:
            await bus.call(topic, "unserialisable")
        assert caught.value.exc_type == "TypeError"

    harness.run(scenario)


def test_unknown_method_raises_unknown_method(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint())
        with pytest.raises(UnknownMethod) as caught:
            await bus.call(topic, "no_such_method")
        assert isinstance(caught.value, NotFound)
        assert caught.value.code == 404
        assert "no_such_method" in caught.value.message

    harness.run(scenario)


@pytest.mark.parametrize("method", ["_secret", "__init__", "a.b", ""])
def test_private_or_malformed_method_is_refused_before_sending(
    harness: Harness, method: str
) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint())
        with pytest.raises(ValueError, match="public method"):
            await bus.call(topic, method)

    harness.run(scenario)


@pytest.mark.parametrize(
    "value",
    [object(), {1, 2}, b"bytes", float("nan"), {"key": object()}],
    ids=["object", "set", "bytes", "nan", "nested-object"],
)
def test_non_json_arguments_are_refused_with_type_error(harness: Harness, value: Any) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        endpoint = Endpoint()
        await bus.serve(topic, endpoint)
        with pytest.raises(TypeError):
            await bus.call(topic, "record", value=value)
        with pytest.raises(TypeError):
            await bus.cast(topic, "record", value=value)
        with pytest.raises(TypeError):
            await bus.fanout(topic, "record", value=value)
        await bus.call(topic, "record", value="sentinel")
        assert endpoint.seen == ["sentinel"]

    harness.run(scenario)


@pytest.mark.parametrize("topic", ["", "a.b", "a*", "a#", "with space", "x" * 101])
def test_malformed_topic_is_refused(harness: Harness, topic: str) -> None:
    async def scenario(bus: Bus, _topic: str) -> None:
        with pytest.raises(ValueError, match="topic"):
            await bus.serve(topic, Endpoint())
        with pytest.raises(ValueError, match="topic"):
            await bus.cast(topic, "record", value=1)

    harness.run(scenario)


# -- timeouts -----------------------------------------------------------------


def test_call_with_no_server_raises_messaging_timeout(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        started = time.monotonic()
        with pytest.raises(MessagingTimeout) as caught:
            await bus.call(topic, "add", a=1, b=2, timeout=0.5)
        assert time.monotonic() - started < 1.0
        assert caught.value.code == 504

    harness.run(scenario)


def test_call_to_a_named_server_that_never_served_raises_messaging_timeout(
    harness: Harness,
) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, Endpoint("alpha"), server="alpha")
        with pytest.raises(MessagingTimeout):
            await bus.call(topic, "whoami", server="beta", timeout=0.5)

    harness.run(scenario)


def test_call_with_no_answer_times_out_near_the_timeout(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        endpoint = Endpoint()
        await bus.serve(topic, endpoint)
        started = time.monotonic()
        with pytest.raises(MessagingTimeout) as caught:
            await bus.call(topic, "wait_for_release", timeout=0.3)
        elapsed = time.monotonic() - started
        assert 0.3 <= elapsed < 0.8
        assert caught.value.code == 504
        endpoint.release.set()

    harness.run(scenario)


# -- cast and fanout ----------------------------------------------------------


def test_cast_reaches_the_server(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        endpoint = Endpoint()
        await bus.serve(topic, endpoint)
        await bus.cast(topic, "record", value={"n": 1})
        await eventually(lambda: endpoint.seen == [{"n": 1}])

    harness.run(scenario)


def test_cast_to_a_named_server_reaches_only_it(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        alpha, beta = Endpoint("alpha"), Endpoint("beta")
        await bus.serve(topic, alpha, server="alpha")
        await bus.serve(topic, beta, server="beta")
        for n in range(4):
            await bus.cast(topic, "record", server="alpha", value=n)
        await eventually(lambda: len(alpha.seen) == 4)
        assert sorted(alpha.seen) == [0, 1, 2, 3]
        assert beta.seen == []

    harness.run(scenario)


def test_cast_with_no_server_is_dropped_without_error(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.cast(topic, "record", value=1)

    harness.run(scenario)


def test_servers_on_one_topic_share_casts(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        alpha, beta = Endpoint("alpha"), Endpoint("beta")
        await bus.serve(topic, alpha)
        await bus.serve(topic, beta)
        for n in range(6):
            await bus.cast(topic, "record", value=n)
        await eventually(lambda: len(alpha.seen) + len(beta.seen) == 6)
        assert alpha.seen and beta.seen
        assert sorted(alpha.seen + beta.seen) == list(range(6))

    harness.run(scenario)


def test_fanout_reaches_every_server(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        endpoints = [Endpoint("alpha"), Endpoint("beta"), Endpoint("gamma")]
        await bus.serve(topic, endpoints[0], server="alpha")
        await bus.serve(topic, endpoints[1], server="beta")
        await bus.serve(topic, endpoints[2])
        await bus.fanout(topic, "record", value="all")
        await eventually(lambda: all(e.seen == ["all"] for e in endpoints))

    harness.run(scenario)


def test_fanout_with_no_server_is_dropped_without_error(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        await bus.fanout(topic, "record", value=1)
        endpoint = Endpoint()  # the bus still works afterwards
        await bus.serve(topic, endpoint)
        await bus.fanout(topic, "record", value=2)
        await eventually(lambda: endpoint.seen == [2])

    harness.run(scenario)


# -- notifications ------------------------------------------------------------


def test_notification_reaches_subscriber_with_full_envelope(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        received: list[Notification] = []
        await bus.subscribe(received.append, event_types=re.escape(topic) + r"\..*")
        await bus.notify(
            f"{topic}.instance.create.end", {"instance_id": "i-1"}, publisher_id="compute.host1"
        )
        await eventually(lambda: len(received) == 1)
        note = received[0]
        assert set(note) == {
            "message_id",
            "publisher_id",
            "event_type",
            "priority",
            "payload",
            "timestamp",
        }
        assert note["publisher_id"] == "compute.host1"
        assert note["event_type"] == f"{topic}.instance.create.end"
        assert note["priority"] == "INFO"
        assert note["payload"] == {"instance_id": "i-1"}
        uuid.UUID(note["message_id"])
        stamp = datetime.strptime(note["timestamp"], "%Y-%m-%d %H:%M:%S.%f")
        assert abs((datetime.now(UTC).replace(tzinfo=None) - stamp).total_seconds()) < 60

    harness.run(scenario)


def test_subscriber_gets_only_matching_event_types_in_order(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        received: list[str] = []

        async def handler(note: Notification) -> None:
            received.append(note["event_type"])

        await bus.subscribe(handler, event_types=re.escape(topic) + r"\.volume\..*")
        for event in ["volume.create", "image.upload", "volume.delete", "volume.attach"]:
            await bus.notify(f"{topic}.{event}", {}, publisher_id="test", priority="warn")
        await eventually(lambda: len(received) == 3)
        assert received == [f"{topic}.volume.{e}" for e in ["create", "delete", "attach"]]

    harness.run(scenario)


def test_every_subscriber_gets_each_notification(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        first: list[Notification] = []
        second: list[Notification] = []
        pattern = re.escape(topic) + r"\..*"
        await bus.subscribe(first.append, event_types=pattern)
        await bus.subscribe(second.append, event_types=re.compile(pattern))
        await bus.notify(f"{topic}.x", {"k": 1}, publisher_id="test", priority="error")
        await eventually(lambda: len(first) == len(second) == 1)
        assert first[0]["priority"] == second[0]["priority"] == "ERROR"
        assert first[0]["message_id"] == second[0]["message_id"]

    harness.run(scenario)


def test_notify_refuses_unknown_priority_and_non_json_payload(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        with pytest.raises(ValueError, match="priority"):
            await bus.notify(f"{topic}.x", {}, publisher_id="test", priority="LOUD")
        with pytest.raises(TypeError):
            await bus.notify(f"{topic}.x", {"k": object()}, publisher_id="test")

    harness.run(scenario)


def test_failing_notification_handler_does_not_stop_delivery(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        received: list[Any] = []

        def handler(note: Notification) -> None:
            if note["payload"]["n"] == 0:
                raise RuntimeError("handler bug")
            received.append(note["payload"]["n"])

        await bus.subscribe(handler, event_types=re.escape(topic) + r"\..*")
        for n in range(3):
            await bus.notify(f"{topic}.x", {"n": n}, publisher_id="test")
        await eventually(lambda: received == [1, 2])

    harness.run(scenario)


# -- stop ---------------------------------------------------------------------


def test_stop_waits_for_running_handlers(harness: Harness) -> None:
    endpoint = Endpoint()

    async def scenario(bus: Bus, topic: str) -> None:
        await bus.serve(topic, endpoint)
        await bus.cast(topic, "slow_record", value="done")
        await asyncio.sleep(0.05)  # taken, still sleeping

    harness.run(scenario)  # stops the bus
    assert endpoint.seen == ["done"]


def test_stop_is_clean(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        received: list[Notification] = []
        await bus.serve(topic, Endpoint(), server="alpha")
        await bus.subscribe(received.append)
        assert await bus.call(topic, "add", a=1, b=1) == 2
        await bus.stop()
        await bus.stop()  # idempotent
        with pytest.raises(RuntimeError):
            await bus.call(topic, "add", a=1, b=1)
        with pytest.raises(RuntimeError):
            await bus.serve(topic, Endpoint())
        with pytest.raises(RuntimeError):
            await bus.start()
        await asyncio.sleep(0)
        leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftovers == []

    harness.run(scenario)


def test_stop_fails_pending_calls_and_cancels_stuck_handlers(harness: Harness) -> None:
    async def scenario(bus: Bus, topic: str) -> None:
        endpoint = Endpoint()
        await bus.serve(topic, endpoint)
        pending = asyncio.create_task(bus.call(topic, "wait_for_release", timeout=30))
        await eventually(lambda: endpoint.seen == ["started"])
        started = time.monotonic()
        await bus.stop()
        assert time.monotonic() - started < 2.0
        with pytest.raises(MessagingTimeout):
            await pending

    harness.run(scenario, drain_timeout=0.2)


def test_bus_works_as_async_context_manager(harness: Harness) -> None:
    async def scenario(_bus: Bus, topic: str) -> None:
        async with harness.new_bus() as bus:
            await bus.serve(topic, Endpoint())
            assert await bus.call(topic, "add", a=1, b=2) == 3
        with pytest.raises(RuntimeError):
            await bus.cast(topic, "record", value=1)

    harness.run(scenario)
