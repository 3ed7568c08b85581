"""Parsing Glance's JSON patch documents."""

from __future__ import annotations

import pytest

from onestack.common.exceptions import BadRequest, Forbidden, UnsupportedMediaType
from onestack.image.attributes import validate_core
from onestack.image.patch import MEDIA_V20, MEDIA_V21, Change, parse_patch


def test_v21_and_v20_forms() -> None:
    assert parse_patch(MEDIA_V21, [{"op": "replace", "path": "/name", "value": "x"}]) == [
        Change("replace", "name", "x")
    ]
    assert parse_patch(MEDIA_V20, [{"remove": "/foo"}]) == [Change("remove", "foo", None)]


def test_pointer_escapes() -> None:
    (change,) = parse_patch(MEDIA_V21, [{"op": "add", "path": "/a~1b~0c", "value": "v"}])
    assert change.name == "a/b~c"


@pytest.mark.parametrize(
    "body",
    [
        {"op": "replace"},
        [{"op": "move", "path": "/name", "value": "x"}],
        [{"op": "add", "path": "name", "value": "x"}],
        [{"op": "add", "path": "/name"}],
        [{"op": "add", "path": "/a/b", "value": "x"}],
    ],
)
def test_bad_documents(body: object) -> None:
    with pytest.raises(BadRequest):
        parse_patch(MEDIA_V21, body)


def test_element_paths_are_refused() -> None:
    with pytest.raises(Forbidden):
        parse_patch(MEDIA_V21, [{"op": "add", "path": "/locations/-", "value": {}}])


def test_media_type() -> None:
    with pytest.raises(UnsupportedMediaType):
        parse_patch("application/json", [])


def test_core_validation() -> None:
    assert validate_core("tags", ["a", "b", "a"]) == ["a", "b"]
    for name, value in [("min_ram", True), ("protected", "yes"), ("disk_format", "floppy")]:
        with pytest.raises(BadRequest):
            validate_core(name, value)
