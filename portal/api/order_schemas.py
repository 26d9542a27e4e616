"""The shapes the orders part of the API takes and gives. An order has the public shape
the order webhooks carry too (portal/orders/shapes.py). Input models only say what
well-formed input looks like; the order services check the rest (a location and contact
of the order's account, active products, who may fulfil)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from portal.api.schemas import Body, Id, PageQuery, Text
from portal.orders.models import ORDER_STATES
from portal.orders.shapes import OrderOut

# --- inputs ---------------------------------------------------------------------------------


class OrdersQuery(PageQuery):
    status: Literal[ORDER_STATES] | None = Field(  # type: ignore[valid-type]
        default=None, description="Only orders in this status."
    )
    account: Id | None = Field(default=None, description="Only one customer account's orders.")


class OrderIn(Body):
    account_id: Id = Field(description="The customer account the order is for.")
    fulfilment_user_id: Id | None = Field(
        default=None,
        description="Who fulfils it: a scheduler or above, or a back-office member of the "
        "Orders queue; the token's user when left out.",
    )
    note: Text = Field(default="", max_length=5000)


class ItemIn(Body):
    product_code: Text = Field(min_length=1, max_length=40, description="The product's code.")
    quantity: int = Field(ge=1, le=999)


class LineIn(Body):
    location_id: Id = Field(description="A service location (address) of the order's account.")
    contact_id: Id = Field(description="The site contact: a contact of the order's account.")
    items: list[ItemIn] = Field(
        min_length=1, max_length=100, description="The products and their quantities."
    )


# --- outputs --------------------------------------------------------------------------------


class OrderPage(BaseModel):
    items: list[OrderOut]
    page: int
    pages: int
    total: int
