"""RabbitBus against the real broker: layout, cross-connection delivery, reconnects.

The behaviour every bus shares is in tests/unit/common/test_bus_contract.py;
this file checks what only RabbitMQ has.  Everything skips when nothing
listens on 127.0.0.1:5672; the queues a test creates are deleted at its end.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from onestack.common.bus import MessagingTimeout, RabbitBus
from onestack.common.bus.rabbit import (
    NOTIFICATIONS_EXCHANGE,
    RPC_EXCHANGE,
    fanout_exchange_name,
    rpc_queue_name,
)

RABBIT_HOST, RABBIT_PORT = "127.0.0.1", 5672
RABBIT_URL = f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/"


def _rabbit_reachable() -> bool:
    try:
        with socket.create_connection((RABBIT_HOST, RABBIT_PORT), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(
        not _rabbit_reachable(), reason=f"RabbitMQ is not reachable on {RABBIT_HOST}:{RABBIT_PORT}"
    ),
]


class Recorder:
    def __init__(self, name: str = "alpha") -> None:
        self.name = name
        self.seen: list[Any] = []

    async def record(self, value: Any) -> None:
        self.seen.append(value)

    async def whoami(self) -> str:
        return self.name


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def broker(topic: str, servers: tuple[str, ...] = ()) -> AsyncIterator[AbstractChannel]:
    """A channel of our own to inspect the broker; deletes the topic's RPC queues after."""
    connection = await aio_pika.connect(RABBIT_URL)
    try:
        channel = await connection.channel()
        yield channel
    finally:
        channel = await connection.channel()
        for name in [rpc_queue_name(topic)] + [rpc_queue_name(topic, s) for s in servers]:
            await channel.queue_delete(name)
        await connection.close()


async def consumers_and_messages(channel: AbstractChannel, queue: str) -> tuple[int, int]:
    declared = await channel.declare_queue(queue, passive=True)
    result = declared.declaration_result
    return result.consumer_count or 0, result.message_count or 0


async def exists(connection_url: str, declare: Callable[[AbstractChannel], Awaitable[Any]]) -> bool:
    """Whether a passive declaration succeeds (a failed one closes its channel)."""
    connection = await aio_pika.connect(connection_url)
    async with connection:
        channel = await connection.channel()
        try:
            await declare(channel)
        except aio_pika.exceptions.ChannelNotFoundEntity:
            return False
        return True


def new_topic() -> str:
    return f"test-{uuid.uuid4().hex[:16]}"


def new_bus(**kwargs: Any) -> RabbitBus:
    return RabbitBus(RABBIT_URL, queue_expiry=60.0, **kwargs)


def test_queues_and_exchanges_follow_the_documented_layout() -> None:
    async def scenario() -> None:
        topic = new_topic()
        async with broker(topic, ("alpha",)) as channel:
            bus = new_bus()
            await bus.start()
            try:
                await bus.serve(topic, Recorder(), server="alpha")
                assert await consumers_and_messages(channel, rpc_queue_name(topic)) == (1, 0)
                assert await consumers_and_messages(channel, f"{topic}.alpha") == (
                    1,
                    0,
                )
                fanout = fanout_exchange_name(topic)
                assert await exists(RABBIT_URL, lambda c: c.declare_exchange(fanout, passive=True))
                reply_queue = bus._link.reply_queue.name
                assert reply_queue.startswith("reply_")
            finally:
                await bus.stop()
            # stop() leaves no consumer; exclusive queues and the fanout exchange are gone
            assert await consumers_and_messages(channel, rpc_queue_name(topic)) == (0, 0)
            assert await consumers_and_messages(channel, rpc_queue_name(topic, "alpha")) == (0, 0)
            assert not await exists(
                RABBIT_URL, lambda c: c.declare_queue(reply_queue, passive=True)
            )
            assert not await exists(RABBIT_URL, lambda c: c.declare_exchange(fanout, passive=True))

    asyncio.run(scenario())


def test_call_crosses_connections_and_reaches_the_named_host() -> None:
    async def scenario() -> None:
        topic = new_topic()
        async with broker(topic, ("alpha", "beta")):
            host_a, host_b, api = new_bus(), new_bus(), new_bus()
            for bus in (host_a, host_b, api):
                await bus.start()
            try:
                await host_a.serve(topic, Recorder("alpha"), server="alpha")
                await host_b.serve(topic, Recorder("beta"), server="beta")
                assert await api.call(topic, "whoami", server="beta") == "beta"
                assert await api.call(topic, "whoami", server="alpha") == "alpha"
                assert {await api.call(topic, "whoami") for _ in range(4)} == {"alpha", "beta"}
            finally:
                for bus in (host_a, host_b, api):
                    await bus.stop()

    asyncio.run(scenario())


def test_cast_waits_in_the_topic_queue_while_its_servers_are_away() -> None:
    async def scenario() -> None:
        topic = new_topic()
        async with broker(topic) as channel:
            async with new_bus() as agent:
                await agent.serve(topic, Recorder())
            async with new_bus() as api:
                await api.cast(topic, "record", value="while away")
            assert await consumers_and_messages(channel, rpc_queue_name(topic)) == (0, 1)
            recorder = Recorder()
            async with new_bus() as agent:
                await agent.serve(topic, recorder)
                await eventually(lambda: recorder.seen == ["while away"])

    asyncio.run(scenario())


def test_call_that_timed_out_in_the_queue_is_never_run() -> None:
    async def scenario() -> None:
        topic = new_topic()
        async with broker(topic) as channel:
            async with new_bus() as agent:
                await agent.serve(topic, Recorder())
            async with new_bus() as api:
                started = time.monotonic()
                with pytest.raises(MessagingTimeout):
                    await api.call(topic, "record", value="stale", timeout=0.3)
                assert time.monotonic() - started >= 0.3  # queued, not refused
            await asyncio.sleep(0.1)
            assert await consumers_and_messages(channel, rpc_queue_name(topic)) == (0, 0)
            recorder = Recorder()
            async with new_bus() as agent:
                await agent.serve(topic, recorder)
                await asyncio.sleep(0.2)
            assert recorder.seen == []

    asyncio.run(scenario())


def test_requests_are_json_with_a_reply_address() -> None:
    async def scenario() -> None:
        topic = new_topic()
        async with broker(topic) as channel:
            # Stand in for a server: our own queue bound to the topic's key.
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
            await queue.bind(RPC_EXCHANGE, topic)
            requests: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await queue.consume(requests.put, no_ack=True)
            async with new_bus() as bus:
                call = asyncio.create_task(bus.call(topic, "resize", timeout=5, flavor="m1"))
                request = await asyncio.wait_for(requests.get(), 5)
                assert request.content_type == "application/json"
                assert json.loads(request.body) == {"method": "resize", "args": {"flavor": "m1"}}
                assert request.reply_to and request.reply_to.startswith("reply_")
                assert isinstance(request.expiration, int | float) and 0 < request.expiration <= 5
                await channel.default_exchange.publish(
                    aio_pika.Message(
                        json.dumps({"result": "resized"}).encode(),
                        correlation_id=request.correlation_id,
                    ),
                    routing_key=request.reply_to,
                )
                assert await call == "resized"

    asyncio.run(scenario())


def test_notifications_are_routed_by_priority() -> None:
    async def scenario() -> None:
        topic = new_topic()
        async with broker(topic) as channel:
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
            await queue.bind(NOTIFICATIONS_EXCHANGE, "notifications.error")
            received: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await queue.consume(received.put, no_ack=True)
            async with new_bus() as bus:
                await bus.notify(f"{topic}.info", {}, publisher_id="test")
                await bus.notify(
                    f"{topic}.failed", {"why": "disk"}, publisher_id="test", priority="error"
                )
                message = await asyncio.wait_for(received.get(), 5)
            # Other tests may publish errors at the same time: find ours.
            while json.loads(message.body)["event_type"] != f"{topic}.failed":
                message = await asyncio.wait_for(received.get(), 5)
            assert message.routing_key == "notifications.error"
            envelope = json.loads(message.body)
            assert envelope["priority"] == "ERROR"
            assert envelope["payload"] == {"why": "disk"}
            await asyncio.sleep(0.1)
            others = []
            while not received.empty():
                others.append(json.loads(received.get_nowait().body)["event_type"])
            assert f"{topic}.info" not in others

    asyncio.run(scenario())


def test_start_fails_when_the_broker_is_unreachable() -> None:
    async def scenario() -> None:
        bus = RabbitBus("amqp://guest:guest@127.0.0.1:1/", connect_timeout=2.0)
        started = time.monotonic()
        with pytest.raises((ConnectionError, OSError, TimeoutError)):
            await bus.start()
        assert time.monotonic() - started < 5
        await bus.stop()  # never started: nothing to do

    asyncio.run(scenario())


def _close_connection(name: str) -> bool:
    """Close our connection from the broker's side; False if rabbitmqctl can't."""
    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if listing.returncode != 0:
        return False
    for line in listing.stdout.splitlines():
        if f'"{name}"' in line or f'<<"{name}">>' in line:
            pid = line.split("\t", 1)[0]
            subprocess.run(
                ["rabbitmqctl", "-q", "close_connection", pid, "onestack test"],
                capture_output=True,
                timeout=30,
                check=True,
            )
            return True
    return False


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl")
def test_bus_reconnects_after_the_broker_drops_it() -> None:
    async def scenario() -> None:
        topic = new_topic()
        name = f"onestack-test-{uuid.uuid4().hex[:8]}"
        async with broker(topic):
            async with (
                new_bus() as api,
                new_bus(connection_name=name, reconnect_interval=0.2) as agent,
            ):
                recorder = Recorder()
                await agent.serve(topic, recorder)
                assert await api.call(topic, "whoami") == "alpha"
                if not await asyncio.to_thread(_close_connection, name):
                    pytest.skip("rabbitmqctl cannot list or close connections here")
                deadline = time.monotonic() + 15
                while True:  # the queue, its binding and the consumer come back
                    try:
                        assert await api.call(topic, "whoami", timeout=0.5) == "alpha"
                        break
                    except MessagingTimeout:
                        assert time.monotonic() < deadline, "the agent never came back"
                await agent.cast(topic, "record", value="after reconnect")
                await eventually(lambda: recorder.seen == ["after reconnect"])

    asyncio.run(scenario())
