"""Server-side pages of a list: no page ever loads a whole table."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.ids import parse_page


@dataclass
class Page:
    """One page of a list: its rows, its number (from 1) and how many pages there are."""

    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(session: so.Session, query: sa.Select, number: int, per_page: int = 25) -> Page:
    """Run `query` for page `number` (clamped to the last page) and count the whole."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // per_page))
    number = min(max(1, number), pages)
    items = session.scalars(query.limit(per_page).offset((number - 1) * per_page)).unique().all()
    return Page(items=list(items), number=number, per_page=per_page, total=total)


def page_arg(raw: str | None) -> int:
    """The ?page= number: 1 when missing or malformed, the last page when past it."""
    return parse_page(raw)
