"""What goes over the wire, identically for every bus implementation.

Everything is JSON (``json.dumps`` with ``allow_nan=False``), never pickle:

- a request is ``{"method": "<name>", "args": {<keyword arguments>}}``;
- a reply is ``{"result": <value>}`` or ``{"failure": {...}}`` where the
  failure names the exception's module and class, its message, its HTTP status
  and (when they are JSON) its keyword arguments;
- a notification is OpenStack's envelope (see :class:`Notification`).

JSON decides what travels: tuples arrive as lists and non-string dictionary
keys arrive as strings; anything else (objects, sets, bytes, NaN, circular
structures) is refused with :class:`TypeError` before a message is sent.

On the receiving side an exception is re-created only when its class lives in
the ``onestack`` package and subclasses ``OneStackError``; anything else turns
into :class:`~onestack.common.bus.base.RemoteError`.  Tracebacks stay in the
server's log; they are never sent.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, TypedDict

from onestack.common.exceptions import OneStackError

LOG = logging.getLogger(__name__)

_MODULE_RE = re.compile(r"onestack(\.[A-Za-z_][A-Za-z0-9_]*)*")


class Notification(TypedDict):
    """OpenStack's notification envelope, as every subscriber receives it."""

    message_id: str
    publisher_id: str
    event_type: str
    priority: str
    payload: dict[str, Any]
    #: UTC, oslo's format: ``"2024-05-01 12:00:00.123456"``.
    timestamp: str


def dumps(value: Any, what: str) -> bytes:
    """Encode ``value`` as JSON; :class:`TypeError` if JSON cannot carry it."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise TypeError(f"{what} cannot be sent over the bus: {exc}") from exc


def loads(body: bytes) -> Any:
    return json.loads(body)


def encode_request(method: str, kwargs: dict[str, Any]) -> bytes:
    return dumps({"method": method, "args": kwargs}, f"The arguments of {method}")


def decode_request(body: bytes) -> tuple[str, dict[str, Any]]:
    data = loads(body)
    if not isinstance(data, dict):
        raise ValueError("A request must be a JSON object.")
    method, args = data.get("method"), data.get("args", {})
    if not isinstance(method, str) or not isinstance(args, dict):
        raise ValueError("A request needs a method name and an object of arguments.")
    return method, args


def encode_result(value: Any) -> bytes:
    return dumps({"result": value}, "The result")


def encode_failure(exc: BaseException) -> bytes:
    cls = type(exc)
    failure: dict[str, Any] = {"module": cls.__module__, "class": cls.__qualname__}
    if isinstance(exc, OneStackError):
        failure["message"] = exc.message
        failure["code"] = exc.code
        try:
            json.dumps(exc.kwargs, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            failure["kwargs"] = {}
        else:
            failure["kwargs"] = exc.kwargs
    else:
        failure["message"] = str(exc)
    return dumps({"failure": failure}, "The failure")


def decode_reply(body: bytes) -> Any:
    """Return the result carried by a reply, or raise the failure it carries."""
    data = loads(body)
    if isinstance(data, dict) and "result" in data:
        return data["result"]
    failure = data.get("failure") if isinstance(data, dict) else None
    if not isinstance(failure, dict):
        raise _remote_error("ProtocolError", f"Malformed reply: {body[:200]!r}")
    raise failure_to_exception(failure)


def failure_to_exception(failure: dict[str, Any]) -> OneStackError:
    module = str(failure.get("module", ""))
    name = str(failure.get("class", ""))
    message = str(failure.get("message", ""))
    cls = _onestack_error_class(module, name)
    if cls is None:
        exc_type = name if module in ("builtins", "") else f"{module}.{name}"
        return _remote_error(exc_type, message)
    kwargs = failure.get("kwargs")
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    try:
        exc = cls(message, **kwargs)
    except Exception:  # a subclass with its own __init__ signature
        exc = cls.__new__(cls)
        OneStackError.__init__(exc, message, **kwargs)
    exc.message = message
    exc.args = (message,)
    code = failure.get("code")
    if isinstance(code, int) and code != exc.code:
        vars(exc)["code"] = code  # an instance that overrode its class's status
    return exc


def _onestack_error_class(module: str, name: str) -> type[OneStackError] | None:
    if not _MODULE_RE.fullmatch(module) or not name.isidentifier():
        return None
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    cls = getattr(mod, name, None)
    if isinstance(cls, type) and issubclass(cls, OneStackError):
        return cls
    return None


def _remote_error(exc_type: str, value: str) -> OneStackError:
    from onestack.common.bus.base import RemoteError

    return RemoteError(exc_type=exc_type, value=value)


def notification(
    event_type: str, payload: dict[str, Any], publisher_id: str, priority: str, message_id: str
) -> Notification:
    now = datetime.now(UTC).replace(tzinfo=None)
    return Notification(
        message_id=message_id,
        publisher_id=publisher_id,
        event_type=event_type,
        priority=priority,
        payload=payload,
        timestamp=now.strftime("%Y-%m-%d %H:%M:%S.%f"),
    )


async def invoke(func: Any, kwargs: dict[str, Any]) -> Any:
    """Run ``func(**kwargs)``: awaited when async, in a worker thread when not."""
    if inspect.iscoroutinefunction(func):
        return await func(**kwargs)
    result = await asyncio.to_thread(func, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result
