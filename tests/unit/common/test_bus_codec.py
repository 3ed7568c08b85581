"""The bus's wire format and dispatch, without a transport."""

from __future__ import annotations

import asyncio
import json
import sys
import types
from typing import Any, ClassVar

import pytest

from onestack.common.bus import (
    InProcessBus,
    MessagingTimeout,
    RabbitBus,
    RemoteError,
    UnknownMethod,
    _codec,
    create_bus,
)
from onestack.common.bus.base import Dispatcher
from onestack.common.exceptions import Conflict, NotFound, OneStackError


class _Endpoint:
    secret_calls: ClassVar[list[str]] = []

    def _secret(self) -> str:
        self.secret_calls.append("called")
        return "secret"

    @property
    def prop(self) -> int:
        return 1

    async def ping(self) -> str:
        return "pong"


def _handle(body: dict[str, Any]) -> Any:
    dispatcher = Dispatcher("topic", _Endpoint(), max_concurrency=1)
    reply = asyncio.run(dispatcher.handle(json.dumps(body).encode()))
    return _codec.decode_reply(reply)


def test_dispatcher_runs_a_public_method() -> None:
    assert _handle({"method": "ping", "args": {}}) == "pong"


@pytest.mark.parametrize("method", ["_secret", "__class__", "__init__", "prop", "a.b", ""])
def test_dispatcher_refuses_private_and_non_methods_sent_by_anyone(method: str) -> None:
    with pytest.raises(UnknownMethod) as caught:
        _handle({"method": method, "args": {}})
    assert caught.value.code == 404
    assert _Endpoint.secret_calls == []


@pytest.mark.parametrize(
    "body", [[1, 2], {"args": {}}, {"method": 1}, {"method": "ping", "args": []}]
)
def test_dispatcher_answers_malformed_requests_with_remote_error(body: Any) -> None:
    with pytest.raises(RemoteError) as caught:
        _handle(body)
    assert caught.value.exc_type == "ValueError"


def test_dispatcher_answers_wrong_arguments_with_remote_error() -> None:
    with pytest.raises(RemoteError) as caught:
        _handle({"method": "ping", "args": {"unexpected": 1}})
    assert caught.value.exc_type == "TypeError"


def test_encode_request_refuses_non_json() -> None:
    circular: list[Any] = []
    circular.append(circular)
    for value in (object(), float("inf"), circular, {(1, 2): "tuple key"}):
        with pytest.raises(TypeError, match="cannot be sent over the bus"):
            _codec.encode_request("m", {"value": value})


def test_failure_from_outside_onestack_becomes_remote_error() -> None:
    exc = _codec.failure_to_exception({"module": "os", "class": "error", "message": "boom"})
    assert type(exc) is RemoteError
    assert exc.exc_type == "os.error"
    assert exc.value == "boom"


def test_failure_naming_a_onestack_class_that_is_not_an_error_becomes_remote_error() -> None:
    failure = {"module": "onestack.common.context", "class": "RequestContext", "message": "x"}
    exc = _codec.failure_to_exception(failure)
    assert type(exc) is RemoteError
    assert exc.exc_type == "onestack.common.context.RequestContext"


@pytest.mark.parametrize(
    "module", ["onestack.no_such_module", "onestack..x", "onestackx.common", "onestack.common;x"]
)
def test_failure_naming_an_unknown_module_becomes_remote_error(module: str) -> None:
    exc = _codec.failure_to_exception({"module": module, "class": "NotFound", "message": "x"})
    assert type(exc) is RemoteError


def test_onestack_error_round_trips_with_an_instance_status() -> None:
    error = Conflict("Volume is in use.", volume_id="v-1")
    error.__dict__["code"] = 423
    failure = json.loads(_codec.encode_failure(error))["failure"]
    exc = _codec.failure_to_exception(failure)
    assert type(exc) is Conflict
    assert (exc.message, exc.code, exc.kwargs) == ("Volume is in use.", 423, {"volume_id": "v-1"})


def test_onestack_error_with_unserialisable_kwargs_still_round_trips() -> None:
    error = NotFound("gone", thing=object())
    exc = _codec.failure_to_exception(json.loads(_codec.encode_failure(error))["failure"])
    assert type(exc) is NotFound
    assert exc.kwargs == {}


class _StrictError(OneStackError):
    code = 418

    def __init__(self, teapot: str) -> None:
        super().__init__(f"{teapot} is a teapot")


def test_subclass_with_its_own_init_is_recreated_by_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = types.ModuleType("onestack._test_bus_fake")
    module._StrictError = _StrictError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    failure = {
        "module": module.__name__,
        "class": "_StrictError",
        "message": "pot is a teapot",
        "kwargs": {"teapot": "pot"},  # _StrictError(message, teapot=...) is a TypeError
    }
    exc = _codec.failure_to_exception(failure)
    assert type(exc) is _StrictError
    assert (exc.message, exc.code, exc.kwargs) == ("pot is a teapot", 418, {"teapot": "pot"})


def test_onestack_error_subclass_outside_onestack_becomes_remote_error() -> None:
    failure = {"module": __name__, "class": "_StrictError", "message": "pot is a teapot"}
    assert type(_codec.failure_to_exception(failure)) is RemoteError


def test_remote_error_itself_round_trips() -> None:
    error = RemoteError(exc_type="KeyError", value="'x'")
    exc = _codec.failure_to_exception(json.loads(_codec.encode_failure(error))["failure"])
    assert type(exc) is RemoteError
    assert (exc.exc_type, exc.value, exc.code) == ("KeyError", "'x'", 500)


def test_messaging_timeout_is_a_504() -> None:
    exc = MessagingTimeout(method="m", topic="t", timeout=1.5)
    assert exc.code == 504
    assert exc.message == "No reply to m on topic t within 1.5 seconds."


def test_create_bus_picks_the_implementation_from_the_url() -> None:
    assert isinstance(create_bus("memory://"), InProcessBus)
    assert isinstance(create_bus("amqp://guest:guest@127.0.0.1:5672/"), RabbitBus)
    assert isinstance(create_bus("AMQPS://user:pw@rabbit.example:5671/onestack"), RabbitBus)


@pytest.mark.parametrize("url", ["", "memory", "memory://host", "redis://x", "kafka://broker"])
def test_create_bus_refuses_other_urls(url: str) -> None:
    with pytest.raises(ValueError):
        create_bus(url)


def test_bus_refuses_calls_before_start() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        with pytest.raises(RuntimeError, match="new"):
            await bus.call("topic", "ping")
        await bus.stop()  # stopping a bus that never started is a no-op

    asyncio.run(scenario())
