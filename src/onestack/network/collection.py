"""One Neutron collection's operations, the same for every resource.

A sub-manager that serves a collection (``/v2.0/networks``...) subclasses
:class:`Collection`: it says which rows a context sees (``_visible``,
``_find``) and writes ``_create`` for one item inside a transaction it is
given; ``get``, ``list_page``, ``create`` and ``create_bulk`` are built on them.  A bulk create
(``{"networks": [...]}``) runs every item in one transaction: one bad item
and nothing was created, as with Neutron's native bulk support.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import Select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network.core import NetworkCore
from onestack.network.exceptions import NotSupported
from onestack.network.listing import ListSpec, Page, list_rows

Row = TypeVar("Row")


class Collection(abc.ABC, Generic[Row]):
    #: False when the collection's records never change what the data plane shows
    wakes_agent: ClassVar[bool] = True
    #: the resource's singular name, for messages
    resource: ClassVar[str] = ""
    #: how list queries (filters, sorting, pages) map onto the table
    spec: ClassVar[ListSpec]

    def __init__(self, core: NetworkCore) -> None:
        self.core = core

    def create(self, ctx: RequestContext, body: Mapping[str, Any]) -> Row:
        return self.create_bulk(ctx, [body])[0]

    def create_bulk(self, ctx: RequestContext, bodies: Sequence[Mapping[str, Any]]) -> list[Row]:
        """Every item, or none: the items share one transaction."""
        with self.core.db.writer() as session:
            rows = [self._create(session, ctx, body) for body in bodies]
        if self.wakes_agent:
            self.core.changed()
        return rows

    @abc.abstractmethod
    def _create(self, session: Session, ctx: RequestContext, body: Mapping[str, Any]) -> Row:
        """Validate, check policy and quota, and add one item to ``session``."""

    @abc.abstractmethod
    def _visible(self, ctx: RequestContext) -> Select[Any]:
        """The rows ``ctx`` may see (a query to filter and page)."""

    @abc.abstractmethod
    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Row:
        """One row ``ctx`` may see, or the resource's NotFound."""

    def _writable(
        self, session: Session, ctx: RequestContext, item_id: str, verb: str, if_match: str | None
    ) -> Row:
        """The row to update or delete: visible to ``ctx``, allowed by policy
        (``<verb>_<resource>``), and at the revision ``if_match`` names, if any."""
        row = self._find(session, ctx, item_id)
        self.core.enforce(ctx, f"{verb}_{self.resource}", {"project_id": cast(Any, row).project_id})
        self.core.check_revision(row, if_match)
        return row

    def _decorate(self, session: Session, rows: Sequence[Any]) -> None:
        """Load what the views show beyond the columns (tags, by default)."""
        self.core.with_tags(session, rows)

    def get(self, ctx: RequestContext, item_id: str) -> Row:
        with self.core.db.reader() as session:
            row = self._find(session, ctx, item_id)
            self._decorate(session, [row])
            return row

    def list_page(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> Page:
        with self.core.db.reader() as session:
            page = list_rows(session, self.spec, self._visible(ctx), query)
            self._decorate(session, page.rows)
            return page

    def update(
        self, ctx: RequestContext, item_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> Row:
        raise NotSupported(operation=f"Updating a {self.resource}")

    @abc.abstractmethod
    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        """Delete the item; ``if_match`` (``revision_number=N``) must name its revision."""
