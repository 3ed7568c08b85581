"""The registry the plugins register their managers in, and the neighbours read from it."""

from __future__ import annotations

import pytest

from onestack.neighbours import Neighbours
from onestack.registry import ServiceRegistry


class ImageLike:
    pass


class Other:
    pass


def test_get_or_create_builds_once_and_registers() -> None:
    registry = ServiceRegistry()
    built: list[ImageLike] = []

    def build() -> ImageLike:
        built.append(ImageLike())
        return built[-1]

    first = registry.get_or_create("image", ImageLike, build)
    assert registry.get_or_create("image", ImageLike, build) is first
    assert built == [first]
    assert dict(registry) == {"image": first} and len(registry) == 1


def test_an_entry_never_changes_or_changes_kind() -> None:
    registry = ServiceRegistry()
    image = registry.register("image", ImageLike())
    assert registry.register("image", image) is image  # again: fine
    with pytest.raises(ValueError, match="registered already"):
        registry.register("image", ImageLike())
    with pytest.raises(TypeError, match="is a ImageLike, not Other"):
        registry.get_or_create("image", Other, Other)
    with pytest.raises(TypeError):
        registry.find("image", Other)
    assert registry.find("image", ImageLike) is image
    assert registry.find("volume", Other) is None


def test_neighbours_resolve_late_over_the_registry() -> None:
    registry = ServiceRegistry()
    neighbours = Neighbours.of(registry)
    assert neighbours.image is None  # not registered yet: the set resolves at call time
    image = registry.register("image", ImageLike())
    assert neighbours.image is image
