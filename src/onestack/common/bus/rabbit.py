"""The RabbitMQ bus (aio-pika), for control planes and agents on several hosts.

Layout on the broker: oslo.messaging's names, so that an OpenStack operator
recognizes the wire (``<topic>`` never contains a dot, so keys cannot clash):

=================================  ==========================================================
``openstack``                      topic exchange (durable; oslo's ``control_exchange``) for
                                   RPC; routing key ``<topic>`` or ``<topic>.<server>``
``<topic>``                        queue shared by every server of the topic (round robin)
``<topic>.<server>``               queue of one named server (a host: ``compute.host-1``)
``<topic>_fanout``                 fanout exchange, auto-deleted with its last queue (one
                                   that no server ever bound stays)
``<topic>_fanout_<id>``            each server's fanout queue (exclusive, auto-delete)
``reply_<id>``                     this bus's replies, matched by correlation id (exclusive,
                                   auto-delete)
``openstack.notifications``        topic exchange (durable); key ``notifications.<priority>``
``notifications_<id>``             each subscriber's queue (exclusive, auto-delete)
=================================  ==========================================================

Give each cloud a virtual host of its own (``amqp://.../<vhost>``): the names are
the same for every cloud on a broker.

The RPC queues are not exclusive, so requests wait there while their servers
restart; they are not durable, and the broker deletes one ``queue_expiry``
seconds (default 30 minutes) after its last consumer left.  Every host must
use the same ``queue_expiry``: RabbitMQ refuses to redeclare a queue with
other arguments.  Calls carry their timeout as the message's expiration.
Messages are not persistent: a broker restart loses what was queued.

The connection is ``aio_pika.connect_robust``: ``start()`` fails if the first
connection does; after a later loss it reconnects every ``reconnect_interval``
seconds and redeclares queues, bindings and consumers.  Calls in flight
during the outage time out; a send waits up to ``connect_timeout`` seconds
for the connection to come back, then raises ``ServiceUnavailable`` (503).
``stop()`` cancels every consumer, drains, and closes the connection, which
deletes every exclusive queue of this bus.

Limits: no TLS options beyond what an ``amqps://`` URL gives aio-pika; the
names are oslo.messaging's but the message bodies are onestack's own JSON
(``_codec``), not oslo's envelope, so an OpenStack service cannot listen on
this bus directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
    ConsumerTag,
)
from aio_pika.exceptions import (
    AMQPError,
    ChannelInvalidStateError,
    ChannelNotFoundEntity,
    PublishError,
)

from onestack.common.bus.base import Bus, Dispatcher, Subscriber
from onestack.common.exceptions import ServiceUnavailable

LOG = logging.getLogger(__name__)

RPC_EXCHANGE = "openstack"
NOTIFICATIONS_EXCHANGE = "openstack.notifications"
_JSON = "application/json"
#: What an operation on a closed or lost channel raises.
_GONE = (AMQPError, ChannelInvalidStateError, ConnectionError)


def rpc_queue_name(topic: str, server: str | None = None) -> str:
    """The queue a topic's servers (or one named server) take requests from."""
    return topic if server is None else f"{topic}.{server}"


def fanout_exchange_name(topic: str) -> str:
    return f"{topic}_fanout"


@dataclass(slots=True)
class _Link:
    """What an open bus holds on the broker."""

    connection: AbstractRobustConnection
    #: Publisher confirms on; unroutable mandatory messages raise PublishError.
    publisher: AbstractRobustChannel
    #: Fanout publishing only: losing the declare/publish race to an auto-delete
    #: closes this channel, never the publisher.
    fanout: AbstractRobustChannel
    consumer: AbstractRobustChannel
    rpc_exchange: AbstractExchange
    notifications_exchange: AbstractExchange
    reply_queue: AbstractQueue
    reply_tag: ConsumerTag


class RabbitBus(Bus):
    """A bus on RabbitMQ (``amqp://user:password@host:port/vhost``)."""

    def __init__(
        self,
        url: str,
        *,
        queue_expiry: float | None = 1800.0,
        max_concurrency: int = 64,
        drain_timeout: float = 10.0,
        connection_name: str | None = None,
        reconnect_interval: float = 1.0,
        connect_timeout: float = 10.0,
    ) -> None:
        super().__init__(max_concurrency=max_concurrency, drain_timeout=drain_timeout)
        self._url = url
        self._queue_arguments: dict[str, Any] | None = (
            None if queue_expiry is None else {"x-expires": max(1, int(queue_expiry * 1000))}
        )
        self._connection_name = connection_name or f"onestack-bus-{os.getpid()}"
        self._reconnect_interval = reconnect_interval
        self._connect_timeout = connect_timeout
        self._link_or_none: _Link | None = None
        self._consumers: list[tuple[AbstractQueue, ConsumerTag]] = []

    def __repr__(self) -> str:
        return f"<RabbitBus {self._connection_name} {self._state.value}>"

    @property
    def _link(self) -> _Link:
        if self._link_or_none is None:
            raise RuntimeError("The bus is not connected.")
        return self._link_or_none

    # -- lifecycle -----------------------------------------------------------

    async def _open(self) -> None:
        connection = await aio_pika.connect_robust(
            self._url,
            client_properties={"connection_name": self._connection_name},
            timeout=self._connect_timeout,
            reconnect_interval=self._reconnect_interval,
        )
        try:
            publisher = await connection.channel(publisher_confirms=True, on_return_raises=True)
            fanout = await connection.channel(publisher_confirms=False)
            consumer = await connection.channel(publisher_confirms=False)
            await consumer.set_qos(prefetch_count=self.max_concurrency)
            rpc_exchange = await publisher.declare_exchange(
                RPC_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
            )
            notifications_exchange = await publisher.declare_exchange(
                NOTIFICATIONS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
            )
            reply_queue = await consumer.declare_queue(
                f"reply_{uuid.uuid4().hex}", exclusive=True, auto_delete=True
            )
            reply_tag = await reply_queue.consume(self._on_reply, no_ack=True)
        except BaseException:
            await connection.close()
            raise
        self._link_or_none = _Link(
            connection,
            publisher,
            fanout,
            consumer,
            rpc_exchange,
            notifications_exchange,
            reply_queue,
            reply_tag,
        )

    async def _stop_consuming(self) -> None:
        consumers, self._consumers = self._consumers, []
        for queue, tag in consumers:
            try:
                await queue.cancel(tag)
            except _GONE as exc:  # the channel is gone, so is the consumer
                LOG.debug("Cancelling consumer %s on %s: %s", tag, queue.name, exc)

    async def _close(self) -> None:
        link, self._link_or_none = self._link_or_none, None
        if link is None:
            return
        with contextlib.suppress(*_GONE):
            await link.reply_queue.cancel(link.reply_tag)
        # Channels first: each one's close callbacks finish before close() returns.
        for channel in (link.consumer, link.fanout, link.publisher):
            with contextlib.suppress(*_GONE):
                await channel.close()
        await link.connection.close()

    async def _retrying(
        self, channel: AbstractRobustChannel, operation: Callable[[], Awaitable[None]]
    ) -> None:
        """Run a send; while its channel is being restored (after a connection
        loss) wait for it, up to ``connect_timeout``, and run it again.

        Raises ``PublishError`` for an unroutable mandatory message and
        ``ServiceUnavailable`` when the broker cannot be reached.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._connect_timeout
        while True:
            try:
                await operation()
                return
            except PublishError:
                raise
            except ChannelInvalidStateError as exc:  # closed before anything was sent
                if loop.time() >= deadline:
                    raise ServiceUnavailable("The message bus is unavailable.") from exc
                await asyncio.sleep(0.01)
                try:
                    await asyncio.wait_for(channel.ready(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    raise ServiceUnavailable("The message bus is unavailable.") from exc
            except _GONE as exc:
                raise ServiceUnavailable(f"The message bus is unavailable: {exc}") from exc

    # -- RPC -----------------------------------------------------------------

    async def _send(
        self,
        topic: str,
        server: str | None,
        body: bytes,
        *,
        reply_id: str | None,
        ttl: float | None,
    ) -> bool:
        link = self._link
        message = _message(
            body,
            "call" if reply_id is not None else "cast",
            correlation_id=reply_id,
            reply_to=link.reply_queue.name if reply_id is not None else None,
            expiration=ttl,
        )
        routing_key = topic if server is None else f"{topic}.{server}"

        async def publish() -> None:
            await link.rpc_exchange.publish(message, routing_key, mandatory=True)

        try:
            await self._retrying(link.publisher, publish)
        except PublishError:  # returned: no queue is bound to that key
            return False
        return True

    async def _send_fanout(self, topic: str, body: bytes) -> None:
        link = self._link
        message = _message(body, "fanout")

        async def publish() -> None:
            # Declared as the servers declare it (so it never closes the
            # channel); one never bound by a server stays until one has been.
            exchange = await link.fanout.declare_exchange(
                fanout_exchange_name(topic),
                aio_pika.ExchangeType.FANOUT,
                auto_delete=True,
                robust=False,
            )
            await exchange.publish(message, routing_key="", mandatory=False)

        try:
            await self._retrying(link.fanout, publish)
        except ServiceUnavailable as exc:
            if not isinstance(exc.__cause__, ChannelNotFoundEntity):
                raise
            # The last server left between declare and publish: nobody to tell.
            LOG.debug("Fanout to %s found no server", topic)

    async def _listen(
        self, topic: str, server: str | None, dispatcher: Dispatcher, shared: bool
    ) -> None:
        channel = self._link.consumer
        callback = functools.partial(self._on_request, dispatcher)
        bindings = [(rpc_queue_name(topic), topic)] if shared else []
        if server is not None:
            bindings.append((rpc_queue_name(topic, server), f"{topic}.{server}"))
        for name, key in bindings:
            queue = await channel.declare_queue(name, arguments=self._queue_arguments)
            await queue.bind(RPC_EXCHANGE, key)
            self._consumers.append((queue, await queue.consume(callback)))
        exchange = await channel.declare_exchange(
            fanout_exchange_name(topic), aio_pika.ExchangeType.FANOUT, auto_delete=True
        )
        queue = await channel.declare_queue(
            f"{fanout_exchange_name(topic)}_{uuid.uuid4().hex}", exclusive=True, auto_delete=True
        )
        await queue.bind(exchange)
        self._consumers.append((queue, await queue.consume(callback)))

    async def _on_request(self, dispatcher: Dispatcher, message: AbstractIncomingMessage) -> None:
        await dispatcher.slots.acquire()
        try:
            await message.ack()  # at most once: taken before it runs
        except _GONE as exc:
            dispatcher.slots.release()
            LOG.warning("Could not take a request on %s: %s", dispatcher.topic, exc)
            return
        reply = None
        if message.reply_to and message.correlation_id:
            reply = functools.partial(self._reply, message.reply_to, message.correlation_id)
        self._spawn(self._run_request(dispatcher, message.body, reply))

    async def _reply(self, reply_to: str, correlation_id: str, answer: bytes) -> None:
        link = self._link
        message = _message(answer, "reply", correlation_id=correlation_id)

        async def publish() -> None:
            # Not mandatory: a caller that went away simply loses its reply.
            await link.publisher.default_exchange.publish(message, reply_to, mandatory=False)

        await self._retrying(link.publisher, publish)

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        if message.correlation_id:
            self._deliver_reply(message.correlation_id, message.body)

    # -- notifications -------------------------------------------------------

    async def _send_notification(self, priority: str, body: bytes) -> None:
        link = self._link
        message = _message(body, "notification")

        async def publish() -> None:
            await link.notifications_exchange.publish(
                message, f"notifications.{priority}", mandatory=False
            )

        await self._retrying(link.publisher, publish)

    async def _listen_notifications(self, subscriber: Subscriber) -> None:
        queue = await self._link.consumer.declare_queue(
            f"notifications_{uuid.uuid4().hex}", exclusive=True, auto_delete=True
        )
        await queue.bind(NOTIFICATIONS_EXCHANGE, "notifications.*")
        callback = functools.partial(self._on_notification, subscriber)
        self._consumers.append((queue, await queue.consume(callback)))

    async def _on_notification(
        self, subscriber: Subscriber, message: AbstractIncomingMessage
    ) -> None:
        # Spawned in delivery order; Subscriber.deliver keeps that order.
        self._spawn(self._deliver_notification(subscriber, message))

    async def _deliver_notification(
        self, subscriber: Subscriber, message: AbstractIncomingMessage
    ) -> None:
        await subscriber.deliver(message.body)
        with contextlib.suppress(*_GONE):
            await message.ack()  # after handling: prefetch bounds what waits here


def _message(body: bytes, kind: str, **properties: Any) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        content_type=_JSON,
        delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
        type=kind,
        app_id="onestack",
        **properties,
    )
