from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from onestack.common.db import Base, Database
from onestack.common.exceptions import BadRequest, NotFound, OverQuota
from onestack.common.models import QuotaDefault, QuotaLimit, QuotaLock
from onestack.common.pagination import (
    PageRequest,
    SortKey,
    apply_filters,
    next_link,
    paginate,
    parse_limit,
    parse_sort,
)
from onestack.common.quota import QuotaEngine, QuotaResource


class _TestBase(DeclarativeBase):
    """Tables of this test only: kept out of onestack's metadata."""


class Widget(_TestBase):
    __tablename__ = "test_widgets"

    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    project_id: Mapped[str] = mapped_column(String(8))


@pytest.fixture()
def db() -> Iterator[Database]:
    database = Database("sqlite://")
    _TestBase.metadata.create_all(database.engine)
    tables = [QuotaLimit.__table__, QuotaDefault.__table__, QuotaLock.__table__]
    Base.metadata.create_all(database.engine, tables=tables)  # type: ignore[arg-type]
    with database.writer() as session:
        for i, (name, size) in enumerate([("a", 3), ("b", 1), ("c", 2), ("d", None), ("e", 2)]):
            session.add(Widget(id=f"w{i}", name=name, size=size, project_id="p"))
    yield database
    database.dispose()


COLUMNS = {"name": Widget.name, "size": Widget.size, "id": Widget.id}


def pages(session: Session, sort: tuple[SortKey, ...], limit: int) -> list[list[str]]:
    out: list[list[str]] = []
    marker: str | None = None
    while True:
        rows = paginate(
            session, select(Widget), Widget, PageRequest(limit, marker, sort), COLUMNS, Widget.id
        )
        if not rows:
            return out
        out.append([r.name for r in rows])
        marker = rows[-1].id


def test_marker_pages_cover_everything_once(db: Database) -> None:
    with db.reader() as session:
        assert pages(session, (SortKey("name"),), 2) == [["a", "b"], ["c", "d"], ["e"]]
        by_size = [n for page in pages(session, (SortKey("size", "desc"),), 2) for n in page]
        assert sorted(by_size) == ["a", "b", "c", "d", "e"]
        assert by_size[0] == "a"


def test_unknown_marker_is_404(db: Database) -> None:
    with db.reader() as session, pytest.raises(NotFound):
        paginate(session, select(Widget), Widget, PageRequest(2, "nope", ()), COLUMNS, Widget.id)


def test_parse_sort_and_limit() -> None:
    assert parse_sort([("sort", "name:desc,size")], ["name", "size"]) == (
        SortKey("name", "desc"),
        SortKey("size", "asc"),
    )
    assert parse_sort([("sort_key", "size"), ("sort_dir", "desc")], ["size"]) == (
        SortKey("size", "desc"),
    )
    with pytest.raises(BadRequest):
        parse_sort([("sort", "secret")], ["name"])
    with pytest.raises(BadRequest):
        parse_sort([("sort", "name:sideways")], ["name"])
    assert parse_limit("5000", maximum=1000) == 1000
    with pytest.raises(BadRequest):
        parse_limit("-1")


def test_filters(db: Database) -> None:
    with db.reader() as session:
        stmt = apply_filters(select(Widget), [("name__startswith", "c"), ("bogus", "x")], COLUMNS)
        assert [w.name for w in session.scalars(stmt)] == ["c"]
    assert (
        next_link("http://h/v", [("limit", "2"), ("marker", "old")], "new")
        == "http://h/v?limit=2&marker=new"
    )


def _engine() -> QuotaEngine:
    def count(session: Session, project_id: str) -> int:
        return int(
            session.scalar(
                select(func.count()).select_from(Widget).where(Widget.project_id == project_id)
            )
            or 0
        )

    return QuotaEngine("test", [QuotaResource("widgets", 6, count)])


def test_quota_counts_usage_and_refuses_over_limit(db: Database) -> None:
    engine = _engine()
    with db.writer() as session:
        engine.check(session, "p", {"widgets": 1})  # 5 used + 1 <= 6
        with pytest.raises(OverQuota) as raised:
            engine.check(session, "p", {"widgets": 2})
        assert "widgets" in raised.value.message
        engine.set_limits(session, "p", {"widgets": -1})
        engine.check(session, "p", {"widgets": 100})
        assert engine.usage(session, "p")["widgets"].in_use == 5
        with pytest.raises(BadRequest):
            engine.set_limits(session, "p", {"gadgets": 1})
        with pytest.raises(BadRequest):
            engine.set_limits(session, "p", {"widgets": -5})
        engine.reset(session, "p")
        engine.set_defaults(session, {"widgets": 9})
        assert engine.limits(session, "p") == {"widgets": 9}


def test_writer_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.writer() as session:
        session.add(Widget(id="zz", name="zz", project_id="p"))
        session.flush()
        raise RuntimeError("boom")
    with db.reader() as session:
        assert session.get(Widget, "zz") is None
