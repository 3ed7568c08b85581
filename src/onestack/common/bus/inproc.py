"""The in-process bus: the all-in-one's broker on asyncio queues.

Each :class:`InProcessBus` is its own broker; everything that should talk
shares one instance, on one event loop.  It keeps the contract of
:mod:`onestack.common.bus.base` the way RabbitMQ does, so code that works here
works on :class:`~onestack.common.bus.rabbit.RabbitBus`:

- bodies are JSON bytes end to end (encoded before sending, decoded by the
  server), never Python objects passed by reference;
- a topic queue (and a ``<topic>.<server>`` queue) exists from the first
  ``serve`` on it until the bus stops, and hands requests to its servers in
  turn; with no server it keeps them until one comes (a queued call is
  dropped once its caller has timed out);
- a request to a queue that does not exist is unroutable: a call fails at
  once with ``MessagingTimeout``, a cast is logged and dropped.

Limits: nothing survives the process; requests and notifications not yet
taken by a handler when ``stop()`` runs are discarded.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from dataclasses import dataclass

from onestack.common.bus.base import Bus, Dispatcher, Subscriber

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Request:
    body: bytes
    reply_id: str | None
    #: Loop time after which nobody waits for the answer any more.
    deadline: float | None


class _Server:
    """One ``serve``: an inbox fed by its queues and a task that empties it."""

    def __init__(self, bus: InProcessBus, dispatcher: Dispatcher) -> None:
        self.bus = bus
        self.dispatcher = dispatcher
        self.inbox: asyncio.Queue[_Request] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._consume())

    async def _consume(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            request = await self.inbox.get()
            if request.deadline is not None and loop.time() > request.deadline:
                LOG.debug("Dropping a call on %s whose caller gave up", self.dispatcher.topic)
                continue
            await self.dispatcher.slots.acquire()
            reply_id = request.reply_id
            if reply_id is None:
                self.bus._spawn(self.bus._run_request(self.dispatcher, request.body, None))
                continue

            async def reply(answer: bytes, reply_id: str = reply_id) -> None:
                self.bus._deliver_reply(reply_id, answer)

            self.bus._spawn(self.bus._run_request(self.dispatcher, request.body, reply))


class _Queue:
    """A named RPC queue: round robin over its servers, a backlog without any."""

    def __init__(self) -> None:
        self.servers: list[_Server] = []
        self.backlog: collections.deque[_Request] = collections.deque()
        self._turn = 0

    def put(self, request: _Request) -> None:
        if not self.servers:
            self.backlog.append(request)
            return
        server = self.servers[self._turn % len(self.servers)]
        self._turn += 1
        server.inbox.put_nowait(request)

    def add(self, server: _Server) -> None:
        self.servers.append(server)
        while self.backlog:
            self.put(self.backlog.popleft())


class _Listener:
    """One ``subscribe``: an inbox and a task handing envelopes on in order."""

    def __init__(self, bus: InProcessBus, subscriber: Subscriber) -> None:
        self.bus = bus
        self.subscriber = subscriber
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._consume())

    async def _consume(self) -> None:
        while True:
            body = await self.inbox.get()
            # One at a time; shielded so stop() drains the delivery under way.
            await asyncio.shield(self.bus._spawn(self.subscriber.deliver(body)))


class InProcessBus(Bus):
    """A bus inside one process (``memory://``)."""

    def __init__(self, *, max_concurrency: int = 64, drain_timeout: float = 10.0) -> None:
        super().__init__(max_concurrency=max_concurrency, drain_timeout=drain_timeout)
        self._queues: dict[str, _Queue] = {}
        self._fanout: dict[str, list[_Server]] = {}
        self._servers: list[_Server] = []
        self._listeners: list[_Listener] = []

    async def _open(self) -> None:
        pass

    async def _stop_consuming(self) -> None:
        tasks = [s.task for s in self._servers] + [sub.task for sub in self._listeners]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _close(self) -> None:
        self._queues.clear()
        self._fanout.clear()
        self._servers.clear()
        self._listeners.clear()

    async def _send(
        self,
        topic: str,
        server: str | None,
        body: bytes,
        *,
        reply_id: str | None,
        ttl: float | None,
    ) -> bool:
        queue = self._queues.get(topic if server is None else f"{topic}.{server}")
        if queue is None:
            return False
        deadline = None if ttl is None else asyncio.get_running_loop().time() + ttl
        queue.put(_Request(body, reply_id, deadline))
        return True

    async def _send_fanout(self, topic: str, body: bytes) -> None:
        for server in self._fanout.get(topic, ()):
            server.inbox.put_nowait(_Request(body, None, None))

    async def _listen(
        self, topic: str, server: str | None, dispatcher: Dispatcher, shared: bool
    ) -> None:
        consumer = _Server(self, dispatcher)
        self._servers.append(consumer)
        if shared:
            self._queues.setdefault(topic, _Queue()).add(consumer)
        if server is not None:
            self._queues.setdefault(f"{topic}.{server}", _Queue()).add(consumer)
        self._fanout.setdefault(topic, []).append(consumer)

    async def _send_notification(self, priority: str, body: bytes) -> None:
        for listener in self._listeners:
            listener.inbox.put_nowait(body)

    async def _listen_notifications(self, subscriber: Subscriber) -> None:
        self._listeners.append(_Listener(self, subscriber))
