"""A small, typed QMP client (QEMU Machine Protocol) over a Unix socket, with threads.

``QmpClient.connect(path)`` reads the greeting and negotiates capabilities;
``execute`` sends one command and waits for its answer; a reader thread
collects asynchronous events (``SHUTDOWN``, ``STOP``, ``DEVICE_DELETED``...),
which ``wait_event`` waits for and ``events`` lists.  When the connection
drops, every waiting call raises :class:`QmpClosed` and ``on_close`` is
called once with whether a ``SHUTDOWN`` event came first (a guest that
stopped by itself) or not (QEMU died or was killed).

File descriptors (tap devices) travel with ``send_fd``, QMP's ``getfd``
with the descriptor as SCM_RIGHTS ancillary data.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOG = logging.getLogger(__name__)


class QmpError(RuntimeError):
    """QEMU answered a command with an error."""

    def __init__(self, command: str, error_class: str, description: str) -> None:
        super().__init__(f"{command}: {error_class}: {description}")
        self.command = command
        self.error_class = error_class
        self.description = description


class QmpClosed(ConnectionError):
    """The QMP connection is closed (QEMU exited)."""


@dataclass(frozen=True)
class QmpEvent:
    name: str
    data: Mapping[str, Any]
    timestamp: float


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    reply: dict[str, Any] | None = None


class QmpClient:
    """One QMP connection; safe to use from several threads."""

    def __init__(self, sock: socket.socket, on_close: Callable[[bool], None] | None = None) -> None:
        self._sock = sock
        self._file = sock.makefile("rb")
        self._write_lock = threading.Lock()
        self._state = threading.Condition()
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        self._events: list[QmpEvent] = []
        self._closed = False
        self.shutdown_seen = False
        self.on_close = on_close
        self.greeting: dict[str, Any] = {}
        self._reader: threading.Thread | None = None

    @classmethod
    def connect(
        cls,
        path: Path,
        timeout: float = 10.0,
        on_close: Callable[[bool], None] | None = None,
    ) -> QmpClient:
        """Connect to QEMU's QMP socket at ``path`` (retrying until ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                sock.close()
                if time.monotonic() >= deadline:
                    raise QmpClosed(f"cannot connect to {path}: {exc}") from exc
                time.sleep(0.02)
        sock.settimeout(timeout)
        client = cls(sock, on_close)
        try:
            greeting = client._read_message()
            if greeting is None or "QMP" not in greeting:
                raise QmpClosed(f"{path} is not a QMP socket")
            client.greeting = greeting["QMP"]
            client._send({"execute": "qmp_capabilities", "id": -1})
            while True:
                reply = client._read_message()
                if reply is None:
                    raise QmpClosed("QEMU closed the connection during negotiation")
                if reply.get("id") == -1:
                    break
                if "event" in reply:
                    client._record_event(reply)
            if "error" in reply:
                error = reply["error"]
                raise QmpError("qmp_capabilities", error.get("class", ""), error.get("desc", ""))
        except BaseException:
            client._file.close()
            sock.close()
            raise
        sock.settimeout(None)
        client._reader = threading.Thread(target=client._read_loop, name=f"qmp {path}", daemon=True)
        client._reader.start()
        return client

    # -- wire --------------------------------------------------------------------------------

    def _send(self, message: Mapping[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(message).encode() + b"\n"
        with self._write_lock:
            try:
                if fds:
                    socket.send_fds(self._sock, [data], fds)
                else:
                    self._sock.sendall(data)
            except OSError as exc:
                raise QmpClosed(str(exc)) from exc

    def _read_message(self) -> dict[str, Any] | None:
        line = self._file.readline()
        if not line:
            return None
        message: dict[str, Any] = json.loads(line)
        return message

    def _record_event(self, message: Mapping[str, Any]) -> None:
        stamp = message.get("timestamp", {})
        when = stamp.get("seconds", 0) + stamp.get("microseconds", 0) / 1e6
        event = QmpEvent(str(message["event"]), message.get("data", {}), when)
        with self._state:
            if event.name == "SHUTDOWN":
                self.shutdown_seen = True
            self._events.append(event)
            del self._events[:-200]
            self._state.notify_all()

    def _read_loop(self) -> None:
        try:
            while True:
                try:
                    message = self._read_message()
                except (OSError, ValueError):
                    message = None
                if message is None:
                    break
                if "event" in message:
                    self._record_event(message)
                    continue
                with self._state:
                    pending = self._pending.pop(message.get("id", -2), None)
                if pending is not None:
                    pending.reply = message
                    pending.done.set()
        finally:
            self._mark_closed()

    def _mark_closed(self) -> None:
        with self._state:
            if self._closed:
                return
            self._closed = True
            pending = list(self._pending.values())
            self._pending.clear()
            self._state.notify_all()
        for item in pending:
            item.done.set()
        callback = self.on_close
        if callback is not None:
            try:
                callback(self.shutdown_seen)
            except Exception:
                LOG.exception("QMP close callback failed")

    # -- API ---------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def execute(
        self,
        command: str,
        arguments: Mapping[str, Any] | None = None,
        timeout: float = 30.0,
        fds: list[int] | None = None,
    ) -> Any:
        """Run ``command``; its ``return`` value, or QmpError / QmpClosed / TimeoutError."""
        with self._state:
            if self._closed:
                raise QmpClosed(f"QMP connection closed before {command}")
            self._next_id += 1
            ident = self._next_id
            pending = _Pending()
            self._pending[ident] = pending
        message: dict[str, Any] = {"execute": command, "id": ident}
        if arguments:
            message["arguments"] = dict(arguments)
        try:
            self._send(message, fds)
        except QmpClosed:
            with self._state:
                self._pending.pop(ident, None)
            raise
        if not pending.done.wait(timeout):
            with self._state:
                self._pending.pop(ident, None)
            raise TimeoutError(f"QEMU did not answer {command} within {timeout} s")
        reply = pending.reply
        if reply is None:
            raise QmpClosed(f"QMP connection closed during {command}")
        if "error" in reply:
            error = reply["error"]
            raise QmpError(command, error.get("class", ""), error.get("desc", ""))
        return reply.get("return")

    def send_fd(self, name: str, fd: int) -> None:
        """Give QEMU the descriptor ``fd`` under ``name`` (QMP ``getfd``)."""
        self.execute("getfd", {"fdname": name}, fds=[fd])

    def events(self, name: str | None = None) -> list[QmpEvent]:
        with self._state:
            return [e for e in self._events if name is None or e.name == name]

    def wait_event(
        self,
        name: str,
        timeout: float,
        match: Callable[[QmpEvent], bool] | None = None,
        after: float = 0.0,
    ) -> QmpEvent | None:
        """The first event ``name`` (stamped after ``after``, host clock) matching ``match``;
        None after ``timeout`` seconds or when the connection closes first."""
        deadline = time.monotonic() + timeout
        with self._state:
            while True:
                for event in self._events:
                    wanted = event.name == name and event.timestamp >= after
                    if wanted and (match is None or match(event)):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return None
                self._state.wait(remaining)

    def wait_closed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._state:
            while not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.wait(remaining)
        return True

    def close(self) -> None:
        """Close the connection without calling ``on_close`` (QEMU keeps running)."""
        self.on_close = None
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=5)
        self._mark_closed()
