"""The message bus contract (OpenStack's oslo.messaging, small).

A :class:`Bus` carries remote procedure calls to *servers* listening on a
*topic*, and notifications to *subscribers*.  Two implementations keep the
same contract: :class:`~onestack.common.bus.inproc.InProcessBus` (one process,
asyncio queues) and :class:`~onestack.common.bus.rabbit.RabbitBus` (RabbitMQ).
The public methods live here, so validation, encoding, timeouts and error
translation are the same code for both; subclasses only move bytes.

RPC
    ``call`` waits for the result; ``cast`` is fire and forget; ``fanout``
    reaches every server of the topic.  Servers on one topic compete for calls
    and casts (round robin); ``server=`` addresses one named server.  A server
    runs ``getattr(endpoint, method)(**kwargs)``: coroutine methods are
    awaited, plain ones run in a worker thread.  Only public names (no leading
    ``_``) can be called; any other name, or one the endpoint lacks, raises
    :class:`UnknownMethod` (404) to the caller.

Serialisation
    Arguments, results and payloads go through JSON in both implementations
    (tuples become lists, non-string keys become strings); what JSON cannot
    carry raises :class:`TypeError` before anything is sent.  ``topic``,
    ``method``, ``timeout`` and ``server`` are reserved and cannot be used as
    argument names.

Errors
    A ``OneStackError`` subclass from the ``onestack`` package raised by an
    endpoint is raised again at the caller with the same class, message and
    status.  Any other exception becomes :class:`RemoteError` (500) naming the
    remote type and message; the traceback stays in the server's log.
    :class:`MessagingTimeout` (504) means no answer within ``timeout``; when
    no server ever listened on the topic (nothing routes the message) it is
    raised at once.  A transport that cannot reach its broker raises
    ``ServiceUnavailable`` (503).

Delivery and limits
    At most once: a server takes a message off its queue before running it,
    so a server that dies mid-call loses that call (the caller times out).  A
    call that times out while still queued is dropped, never run late.  A
    cast to a topic nobody serves is logged and dropped; a cast to a topic
    whose servers are momentarily gone waits in the topic's queue.  Each
    ``serve`` runs at most ``max_concurrency`` requests at once.  ``stop()``
    stops taking messages, waits up to ``drain_timeout`` seconds for running
    handlers (cancelling the rest; a method already running in a thread runs
    to its end), fails pending calls with :class:`MessagingTimeout` and
    closes.  A bus is started once and stopped once.

Notifications
    ``notify`` publishes OpenStack's envelope (message_id, publisher_id,
    event_type, priority, payload, timestamp).  Every subscriber receives,
    in order, each notification published while it is subscribed whose
    ``event_type`` fully matches its regular expression.  Nothing is stored
    for subscribers that come later.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import inspect
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, ClassVar, Self, cast

from onestack.common.bus import _codec
from onestack.common.bus._codec import Notification
from onestack.common.exceptions import NotFound, OneStackError

LOG = logging.getLogger(__name__)

#: A notification handler: sync (run in a thread) or async; its result is ignored.
NotificationHandler = Callable[[Notification], Any]

#: oslo.messaging's priorities; the envelope carries them upper-case.
PRIORITIES = frozenset({"AUDIT", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL", "SAMPLE"})

# Topics never contain dots, so "<topic>.<server>" can never be mistaken for
# another topic; server names may (they are often host names).
_TOPIC_RE = re.compile(r"[A-Za-z0-9_-]{1,100}")
_SERVER_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,149}")


class RemoteError(OneStackError):
    """An endpoint raised something that is not a onestack error."""

    code = 500
    title = "Internal Server Error"
    msg_fmt = "Remote error: {exc_type}: {value}"

    def __init__(
        self,
        message: str | None = None,
        *,
        exc_type: str = "Exception",
        value: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(message, exc_type=exc_type, value=value, **kwargs)
        #: The remote exception's type name (``module.Class``, bare for builtins).
        self.exc_type = exc_type
        #: The remote exception's message.
        self.value = value


class MessagingTimeout(OneStackError):
    """No server answered a call in time (or none is listening at all)."""

    code = 504
    title = "Gateway Timeout"
    msg_fmt = "No reply to {method} on topic {topic} within {timeout} seconds."


class UnknownMethod(NotFound):
    """The endpoint has no public method of that name."""

    msg_fmt = "The endpoint on topic {topic} has no method {method}."


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class Dispatcher:
    """Runs the requests of one ``serve``: method lookup, invocation, reply."""

    def __init__(self, topic: str, endpoint: object, max_concurrency: int) -> None:
        self.topic = topic
        self.endpoint = endpoint
        #: Transports acquire a slot before taking a message off a queue.
        self.slots = asyncio.Semaphore(max_concurrency)

    def lookup(self, method: str) -> Callable[..., Any]:
        if not method.isidentifier() or method.startswith("_"):
            raise UnknownMethod(topic=self.topic, method=method)
        func = getattr(self.endpoint, method, None)
        if not callable(func):
            raise UnknownMethod(topic=self.topic, method=method)
        return cast(Callable[..., Any], func)

    async def handle(self, body: bytes) -> bytes:
        """Run one request; return the encoded reply (result or failure)."""
        method = "?"
        try:
            method, kwargs = _codec.decode_request(body)
            result = await _codec.invoke(self.lookup(method), kwargs)
            return _codec.encode_result(result)
        except OneStackError as exc:
            LOG.info("%s.%s raised %s: %s", self.topic, method, type(exc).__name__, exc)
            return _codec.encode_failure(exc)
        except Exception as exc:
            LOG.exception("%s.%s failed", self.topic, method)
            return _codec.encode_failure(exc)


class Subscriber:
    """One ``subscribe``: filters by event type and calls the handler in order."""

    def __init__(self, handler: NotificationHandler, event_types: re.Pattern[str] | None) -> None:
        self.handler = handler
        self.event_types = event_types
        self.lock = asyncio.Lock()

    async def deliver(self, body: bytes) -> None:
        """Decode, filter and hand on one envelope; one at a time, in arrival order."""
        async with self.lock:  # asyncio.Lock is FIFO
            await self._deliver(body)

    async def _deliver(self, body: bytes) -> None:
        try:
            note = _codec.loads(body)
            if not isinstance(note, dict) or not isinstance(note.get("event_type"), str):
                raise ValueError("not a notification envelope")
            if self.event_types is None or self.event_types.fullmatch(note["event_type"]):
                await _call(self.handler, cast(Notification, note))
        except Exception:
            LOG.exception("Notification handler %r failed", self.handler)


async def _call(handler: NotificationHandler, note: Notification) -> None:
    if inspect.iscoroutinefunction(handler):
        await handler(note)
        return
    result = await asyncio.to_thread(handler, note)
    if inspect.isawaitable(result):
        await result


class Bus(abc.ABC):
    """The bus contract; see the module docstring.  Use as ``async with``."""

    #: Seconds ``stop()`` waits for running handlers by default.
    DEFAULT_DRAIN_TIMEOUT: ClassVar[float] = 10.0

    def __init__(
        self, *, max_concurrency: int = 64, drain_timeout: float = DEFAULT_DRAIN_TIMEOUT
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self.drain_timeout = drain_timeout
        self._state = _State.NEW
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Connect.  Raises what the transport raises if it cannot."""
        if self._state is not _State.NEW:
            raise RuntimeError(f"A bus is started once; this one is {self._state.value}.")
        await self._open()
        self._state = _State.RUNNING

    async def stop(self) -> None:
        """Stop consuming, drain running handlers, fail pending calls, close."""
        if self._state is not _State.RUNNING:
            return
        self._state = _State.STOPPING
        try:
            await self._stop_consuming()
            await self._drain()
        finally:
            self._state = _State.STOPPED
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(
                        MessagingTimeout("The bus stopped before the reply arrived.")
                    )
            await self._close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- RPC -----------------------------------------------------------------

    async def call(
        self,
        topic: str,
        method: str,
        *,
        timeout: float = 60.0,
        server: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run ``method(**kwargs)`` on one server of ``topic`` and return its result."""
        self._check_sending()
        _check_target(topic, server)
        _check_method(method)
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        body = _codec.encode_request(method, kwargs)
        reply_id = uuid.uuid4().hex
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[reply_id] = future
        target = topic if server is None else f"{topic}.{server}"
        try:
            async with asyncio.timeout(timeout):
                if not await self._send(topic, server, body, reply_id=reply_id, ttl=timeout):
                    raise MessagingTimeout(f"No server is listening on {target} for {method}.")
                reply = await future
        except TimeoutError:
            raise MessagingTimeout(method=method, topic=target, timeout=timeout) from None
        finally:
            del self._pending[reply_id]
        return _codec.decode_reply(reply)

    async def cast(
        self, topic: str, method: str, *, server: str | None = None, **kwargs: Any
    ) -> None:
        """Send ``method(**kwargs)`` to one server of ``topic``; do not wait."""
        self._check_sending()
        _check_target(topic, server)
        _check_method(method)
        body = _codec.encode_request(method, kwargs)
        if not await self._send(topic, server, body, reply_id=None, ttl=None):
            target = topic if server is None else f"{topic}.{server}"
            LOG.warning("Cast %s to %s dropped: no server has listened there.", method, target)

    async def fanout(self, topic: str, method: str, **kwargs: Any) -> None:
        """Send ``method(**kwargs)`` to every server of ``topic``; do not wait."""
        self._check_sending()
        _check_target(topic, None)
        _check_method(method)
        await self._send_fanout(topic, _codec.encode_request(method, kwargs))

    async def serve(
        self, topic: str, endpoint: object, *, server: str | None = None, shared: bool = True
    ) -> None:
        """Start serving ``endpoint``'s public methods on ``topic`` until ``stop()``.

        ``server`` names this server so callers can address it alone; every
        server also takes every fanout and, unless ``shared`` is False (a server
        that serves only what is addressed to it), its share of the topic.
        """
        self._check_running()
        _check_target(topic, server)
        if not shared and server is None:
            raise ValueError("A server that does not share its topic needs a name")
        dispatcher = Dispatcher(topic, endpoint, self.max_concurrency)
        await self._listen(topic, server, dispatcher, shared)

    # -- notifications -------------------------------------------------------

    async def notify(
        self,
        event_type: str,
        payload: dict[str, Any],
        *,
        publisher_id: str,
        priority: str = "INFO",
    ) -> None:
        """Publish a notification to every current subscriber."""
        self._check_sending()
        if not isinstance(event_type, str) or not event_type:
            raise ValueError("event_type must be a non-empty string")
        if not isinstance(publisher_id, str) or not publisher_id:
            raise ValueError("publisher_id must be a non-empty string")
        if not isinstance(payload, dict):
            raise TypeError("payload must be a dict")
        level = priority.upper() if isinstance(priority, str) else ""
        if level not in PRIORITIES:
            raise ValueError(f"priority must be one of {sorted(PRIORITIES)}, not {priority!r}")
        note = _codec.notification(event_type, payload, publisher_id, level, str(uuid.uuid4()))
        await self._send_notification(level.lower(), _codec.dumps(note, "The payload"))

    async def subscribe(
        self,
        handler: NotificationHandler,
        *,
        event_types: str | re.Pattern[str] | None = None,
    ) -> None:
        """Call ``handler(envelope)`` for notifications whose event type fully
        matches ``event_types`` (a regular expression; ``None`` for all)."""
        self._check_running()
        pattern = re.compile(event_types) if isinstance(event_types, str) else event_types
        await self._listen_notifications(Subscriber(handler, pattern))

    # -- for transports ------------------------------------------------------

    def _deliver_reply(self, reply_id: str, body: bytes) -> None:
        future = self._pending.get(reply_id)
        if future is None or future.done():
            LOG.debug("Dropping a reply nobody waits for (%s)", reply_id)
            return
        future.set_result(body)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a handler as a task that ``stop()`` drains."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_request(
        self,
        dispatcher: Dispatcher,
        body: bytes,
        reply: Callable[[bytes], Awaitable[None]] | None,
    ) -> None:
        """Handle one request whose slot the transport already acquired."""
        try:
            answer = await dispatcher.handle(body)
            if reply is not None:
                await reply(answer)
        except Exception:
            LOG.exception("Could not answer a request on %s", dispatcher.topic)
        finally:
            dispatcher.slots.release()

    async def _drain(self) -> None:
        """Wait for handlers (also ones a late delivery starts) up to drain_timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout
        # A handler that calls stop() itself is not waited for.
        while tasks := self._tasks - {asyncio.current_task()}:
            remaining = deadline - loop.time()
            if remaining <= 0:
                LOG.warning("Cancelling %d bus handlers still running at stop", len(tasks))
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks)
                return
            await asyncio.wait(tasks, timeout=remaining)

    def _check_running(self) -> None:
        if self._state is not _State.RUNNING:
            raise RuntimeError(f"The bus is {self._state.value}, not running.")

    def _check_sending(self) -> None:
        # Handlers still draining during stop() may send.
        if self._state not in (_State.RUNNING, _State.STOPPING):
            raise RuntimeError(f"The bus is {self._state.value}, not running.")

    # -- what a transport implements -----------------------------------------

    @abc.abstractmethod
    async def _open(self) -> None:
        """Connect and prepare to send and to receive replies."""

    @abc.abstractmethod
    async def _stop_consuming(self) -> None:
        """Stop taking requests and notifications (replies still arrive)."""

    @abc.abstractmethod
    async def _close(self) -> None:
        """Release everything; called once, after draining."""

    @abc.abstractmethod
    async def _send(
        self,
        topic: str,
        server: str | None,
        body: bytes,
        *,
        reply_id: str | None,
        ttl: float | None,
    ) -> bool:
        """Queue a request for one server; False when no queue exists for it.

        With ``reply_id``, the server's answer must reach ``_deliver_reply``;
        with ``ttl``, a request still queued after ``ttl`` seconds is dropped.
        """

    @abc.abstractmethod
    async def _send_fanout(self, topic: str, body: bytes) -> None:
        """Give a request to every server of ``topic`` (no reply)."""

    @abc.abstractmethod
    async def _listen(
        self, topic: str, server: str | None, dispatcher: Dispatcher, shared: bool
    ) -> None:
        """Consume the server's queue, the topic's fanout and (``shared``) the topic's queue."""

    @abc.abstractmethod
    async def _send_notification(self, priority: str, body: bytes) -> None:
        """Publish a notification envelope (``priority`` is lower case)."""

    @abc.abstractmethod
    async def _listen_notifications(self, subscriber: Subscriber) -> None:
        """Deliver every later notification to ``subscriber`` (through ``_spawn``)."""


def _check_target(topic: str, server: str | None) -> None:
    if not isinstance(topic, str) or not _TOPIC_RE.fullmatch(topic):
        raise ValueError(f"A topic is 1-100 letters, digits, '_' or '-', not {topic!r}")
    if server is not None and (not isinstance(server, str) or not _SERVER_RE.fullmatch(server)):
        raise ValueError(f"A server name is 1-150 letters, digits, '_', '-' or '.', not {server!r}")


def _check_method(method: str) -> None:
    if not isinstance(method, str) or not method.isidentifier() or method.startswith("_"):
        raise ValueError(f"Only public method names can be called, not {method!r}")
