"""The message bus: RPC to agents and notifications (OpenStack's oslo.messaging, small).

``create_bus(url)`` picks the implementation from the URL: ``memory://`` for
the all-in-one (:class:`InProcessBus`), ``amqp://user:password@host:port/vhost``
(or ``amqps://``) for RabbitMQ (:class:`RabbitBus`).  The contract, the same
for both, is in :mod:`onestack.common.bus.base`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onestack.common.bus._codec import Notification
from onestack.common.bus.base import (
    PRIORITIES,
    Bus,
    MessagingTimeout,
    NotificationHandler,
    RemoteError,
    UnknownMethod,
)
from onestack.common.bus.inproc import InProcessBus

if TYPE_CHECKING:
    from onestack.common.bus.rabbit import RabbitBus

__all__ = [
    "PRIORITIES",
    "Bus",
    "InProcessBus",
    "MessagingTimeout",
    "Notification",
    "NotificationHandler",
    "RabbitBus",
    "RemoteError",
    "UnknownMethod",
    "create_bus",
]


def __getattr__(name: str) -> Any:
    # aio-pika costs 50 ms of start-up: imported only when RabbitMQ is used
    if name == "RabbitBus":
        from onestack.common.bus.rabbit import RabbitBus

        return RabbitBus
    raise AttributeError(name)


def create_bus(url: str) -> Bus:
    """A new, not yet started, bus for ``url``; :class:`ValueError` for other schemes."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if sep and scheme == "memory":
        if rest.strip("/"):
            raise ValueError(f"memory:// takes no host or path, not {url!r}")
        return InProcessBus()
    if sep and scheme in ("amqp", "amqps"):
        from onestack.common.bus.rabbit import RabbitBus

        return RabbitBus(url)
    raise ValueError("A bus URL is memory:// or amqp://user:password@host:port/vhost")
