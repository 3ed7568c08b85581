"""Where the service plugins register their managers: a typed registry.

``Cloud.services`` holds one manager per service name, registered once by the
service's plugin (``get_or_create``, typed by the manager's class).  Services
never read it to reach each other: they use ``cloud.neighbours``, the typed
view that ``onestack.neighbours.Neighbours`` builds over this registry.  What
a service runs beside its manager (agents, background tasks) belongs to the
service's own objects, never to an entry of its own here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

T = TypeVar("T")


class ServiceRegistry(Mapping[str, object]):
    """Each service's manager by service name; an entry, once registered, never changes."""

    def __init__(self) -> None:
        self._services: dict[str, object] = {}

    def register(self, name: str, service: T) -> T:
        """Register ``service`` as ``name`` (again is fine; another object is an error)."""
        existing = self._services.get(name)
        if existing is not None and existing is not service:
            raise ValueError(f"the {name} service is registered already")
        self._services[name] = service
        return service

    def get_or_create(self, name: str, kind: type[T], build: Callable[[], T]) -> T:
        """The ``kind`` registered as ``name``, built and registered by ``build`` the first time."""
        existing = self._services.get(name)
        if existing is None:
            return self.register(name, build())
        if not isinstance(existing, kind):
            raise TypeError(
                f"the {name} service is a {type(existing).__name__}, not {kind.__name__}"
            )
        return existing

    def find(self, name: str, kind: type[T]) -> T | None:
        """The ``kind`` registered as ``name``, or None when nothing is."""
        existing = self._services.get(name)
        if existing is not None and not isinstance(existing, kind):
            raise TypeError(
                f"the {name} service is a {type(existing).__name__}, not {kind.__name__}"
            )
        return existing

    def __getitem__(self, name: str) -> object:
        return self._services[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._services)

    def __len__(self) -> int:
        return len(self._services)
