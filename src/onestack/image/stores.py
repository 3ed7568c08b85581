"""The stores an image service has, which are enabled, and which is the default.

Glance's multi-store: every store has an identifier (``file``, ``swift``), a
description and a type; ``/v2/info/stores`` lists the enabled ones and marks
the default.  A store Glance knows but this cloud has not enabled (``cinder``,
or ``swift`` without object storage) is "not available", an identifier
nobody knows is "not found"; both are Glance's own errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from onestack.image.exceptions import StoreNotAvailable, StoreNotFound
from onestack.image.store import ImageStore

#: the store types Glance has that onestack knows of
KNOWN = ("file", "swift", "cinder")


@dataclass(frozen=True)
class StoreSet:
    stores: Mapping[str, ImageStore]
    default: str

    def __post_init__(self) -> None:
        if self.default not in self.stores:
            raise ValueError(f"the default store {self.default} is not enabled")

    @property
    def names(self) -> list[str]:
        return list(self.stores)

    def get(self, name: str | None, *, for_upload: bool = False) -> ImageStore:
        """The store ``name`` (None: the default).  An upload naming a store nobody
        knows gets Glance's 400; everything else that is not enabled its 409."""
        if name is None:
            name = self.default
        store = self.stores.get(name)
        if store is not None:
            return store
        if for_upload and name not in KNOWN:
            raise StoreNotFound(store=name)
        raise StoreNotAvailable(store=name)

    def info(self, detail: bool = False) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for name, store in self.stores.items():
            entry: dict[str, object] = {"id": name, "description": store.description}
            if name == self.default:
                entry["default"] = True
            if detail:
                entry["type"] = store.type
                entry["weight"] = 0
                entry["properties"] = store.properties()
            out.append(entry)
        return out
