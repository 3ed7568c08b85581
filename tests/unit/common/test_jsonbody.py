"""The one JSON body parser: limits on nesting, integers and Unicode (issue 13)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from onestack.common import jsonbody
from onestack.common.db import Database, InvalidValue


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"[" * 5000 + b"]" * 5000, "nested deeper than 100"),
        (b'{"a": ' * 101 + b"1" + b"}" * 101, "nested deeper than 100"),
        (b'{"a": 9223372036854775808}', "out of range"),
        (b"[-9223372036854775809]", "out of range"),
        (b'{"a": "\\ud800"}', "lone surrogate"),
        (b'{"\\udfff": 1}', "lone surrogate"),
        (b'["\\ud83d"]', "lone surrogate"),
        (b'"\xed\xa0\x80"', "not UTF-8"),
        (b"{", "Expecting"),
    ],
)
def test_a_body_breaking_a_limit_is_malformed(raw: bytes, fragment: str) -> None:
    with pytest.raises(jsonbody.MalformedBody) as caught:
        jsonbody.loads(raw)
    assert caught.value.code == 400
    assert fragment in caught.value.message


def test_bodies_within_the_limits_parse() -> None:
    assert jsonbody.loads(b"[" * 100 + b"]" * 100) is not None
    assert jsonbody.loads(b'{"a": 9223372036854775807, "b": -9223372036854775808}') == {
        "a": 2**63 - 1,
        "b": -(2**63),
    }
    assert jsonbody.loads(b'{"emoji": "\\ud83d\\ude00", "accent": "\xc3\xa9"}') == {
        "emoji": "\U0001f600",
        "accent": "\u00e9",
    }


def test_the_database_refuses_values_it_cannot_store_and_rolls_back() -> None:
    db = Database("sqlite://")
    with db.writer() as session:
        session.execute(text("CREATE TABLE t (a INTEGER, b VARCHAR(10))"))
    for params in (
        {"a": 2**64, "b": "x"},
        {"a": 1, "b": "\ud800"},
        [{"a": 1, "b": "x"}, {"a": -(2**63) - 1, "b": "y"}],
    ):
        with pytest.raises(InvalidValue) as caught, db.writer() as session:
            session.execute(text("INSERT INTO t VALUES (:a, 'first')"), {"a": 7})
            session.execute(text("INSERT INTO t VALUES (:a, :b)"), params)
        assert caught.value.code == 400
    with db.reader() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
