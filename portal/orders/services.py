"""Orders until approval: a draft, its lines (one per location, each with a site contact
and products), placing it, and a manager rejecting it with a reason.

Services take a session and plain values, check who acts and what the order's status
allows, write a work note (portal/orders/notes.py), flush and never commit. Approval,
closure and everything after are in lifecycle.py; changes in flight in inflight.py.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.fields import check_email, clean_name, clean_phone
from portal.accounts.models import Contact, CustomerAccount, ServiceLocation, User
from portal.accounts.services import add_contact, add_service_location, normalise_email
from portal.errors import Conflict, Invalid, NotAllowed
from portal.ids import parse_id
from portal.orders.models import Order, OrderLine, OrderLineItem, Product
from portal.orders.notes import note as write_note
from portal.orders.notes import set_order_status, words
from portal.orders.queries import ENDED, lock_order, may_approve, may_handle_orders

MAX_QUANTITY = 999
NOTE_MAX = 2000
REASON_MAX = 1000


# --- checks -------------------------------------------------------------------------------


def require_handler(session: so.Session, by: User | None) -> None:
    if not may_handle_orders(session, by):
        raise NotAllowed("Only schedulers and members of the Orders queue handle orders.")


def require_manager(by: User | None) -> None:
    if not may_approve(by):
        raise NotAllowed("Only a manager approves or rejects orders.")


def require_draft(order: Order) -> None:
    if order.status != "draft":
        raise Conflict(
            f"{order.number} is {words(order.status)}: only a draft's lines can be changed "
            "this way."
        )


def clean_reason(reason: str | None, *, what: str = "why") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(f"Say {what}.", field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    return reason


def _clean_note(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > NOTE_MAX:
        raise Invalid(f"Keep the note under {NOTE_MAX} characters.", field="note")
    return text


def check_fulfilment_user(session: so.Session, user: User | None) -> None:
    if user is None:
        raise Invalid("Choose who fulfils the order.", field="fulfilment_user")
    if not may_handle_orders(session, user):
        raise Invalid(
            f"{user.full_name} cannot fulfil orders: choose an active scheduler or a member "
            "of the Orders queue.",
            field="fulfilment_user",
        )


def check_location(order: Order, location: ServiceLocation | None) -> ServiceLocation:
    if location is None or location.account_id != order.account_id:
        raise Invalid("Choose an address of this customer's account.", field="location")
    return location


def check_contact(order: Order, contact: Contact | None) -> Contact | None:
    if contact is not None and contact.account_id != order.account_id:
        raise Invalid("Choose a person at this customer's account.", field="contact")
    return contact


def clean_items(session: so.Session, items: Mapping[int, int]) -> dict[int, int]:
    """{product id: quantity} with every product active and every quantity 1..999."""
    cleaned: dict[int, int] = {}
    for product_id, quantity in items.items():
        number = parse_id(product_id)
        product = session.get(Product, number) if number is not None else None
        if product is None or not product.active:
            raise Invalid("Choose products from the catalogue.", field="items")
        amount = _whole_number(quantity)
        if not 1 <= amount <= MAX_QUANTITY:
            raise Invalid(
                f"The quantity of {product.name} must be a whole number from 1 to {MAX_QUANTITY}.",
                field="items",
            )
        cleaned[product.id] = amount
    return cleaned


def _whole_number(value: object) -> int:
    """An int, or a string of at most 4 ASCII digits; 0 (refused) for anything else."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else 0


# --- drafts -------------------------------------------------------------------------------


def create_order(
    session: so.Session,
    account: CustomerAccount,
    *,
    fulfilment_user: User | None,
    by: User,
    note: str = "",
) -> Order:
    """A draft order for `account`, to be fulfilled by `fulfilment_user`."""
    require_handler(session, by)
    check_fulfilment_user(session, fulfilment_user)
    text = _clean_note(note)
    order = Order(
        account_id=account.id,
        status="draft",
        fulfilment_user_id=fulfilment_user.id,
        created_by_id=by.id,
        note=text,
    )
    session.add(order)
    session.flush()
    write_note(session, order, "created", by=by, text=f"Draft for {account.name}")
    return order


def set_fulfilment_user(session: so.Session, order: Order, user: User | None, *, by: User) -> Order:
    """Hand the order to another fulfilment user (while it is not over)."""
    require_handler(session, by)
    if order.status in ENDED:
        raise Conflict(f"{order.number} is {words(order.status)}.")
    check_fulfilment_user(session, user)
    old = order.fulfilment_user.full_name if order.fulfilment_user else None
    if order.fulfilment_user_id == user.id:
        return order
    order.fulfilment_user_id = user.id
    order.fulfilment_user = user
    write_note(
        session,
        order,
        "fulfilment_user",
        by=by,
        old=old,
        new=user.full_name,
        text=f"Fulfilled by {user.full_name}",
    )
    session.flush()
    return order


def add_line(
    session: so.Session,
    order: Order,
    location: ServiceLocation | None,
    *,
    contact: Contact | None,
    by: User,
) -> OrderLine:
    """A line for another address of the account (one line per address)."""
    require_handler(session, by)
    require_draft(order)
    check_location(order, location)
    check_contact(order, contact)
    taken = session.scalar(
        sa.select(OrderLine.position).where(
            OrderLine.order_id == order.id, OrderLine.location_id == location.id
        )
    )
    if taken is not None:
        raise Invalid(
            f"Line {taken} is for {location.label} already: one line per address.",
            field="location",
        )
    last = session.scalar(
        sa.select(sa.func.max(OrderLine.position)).where(OrderLine.order_id == order.id)
    )
    line = OrderLine(
        order_id=order.id,
        position=(last or 0) + 1,
        location_id=location.id,
        contact_id=contact.id if contact is not None else None,
    )
    session.add(line)
    session.flush()
    session.expire(order, ["lines"])
    write_note(session, order, "line", by=by, text=f"Line {line.position} added: {location.label}")
    return line


def remove_line(session: so.Session, line: OrderLine, *, by: User) -> None:
    """Remove a draft's line; the lines after it move up."""
    order = line.order
    require_handler(session, by)
    require_draft(order)
    position, label = line.position, line.location.label
    session.delete(line)
    session.flush()
    later = session.scalars(
        sa.select(OrderLine)
        .where(OrderLine.order_id == order.id, OrderLine.position > position)
        .order_by(OrderLine.position)
    )
    for other in later:  # one at a time: (order, position) is unique
        other.position -= 1
        session.flush()
    session.expire(order, ["lines"])
    write_note(session, order, "line", by=by, text=f"Line {position} removed: {label}")


def replace_items(session: so.Session, line: OrderLine, items: dict[int, int]) -> list[str]:
    """Make the line's items exactly `items` (cleaned); returns what changed, in words."""
    changes: list[str] = []
    current = {item.product_id: item for item in line.items}
    for product_id, item in current.items():
        if product_id not in items:
            changes.append(f"{item.product.name} removed")
            line.items.remove(item)
    for product_id, quantity in items.items():
        item = current.get(product_id)
        if item is None:
            product = session.get(Product, product_id)
            line.items.append(OrderLineItem(product_id=product_id, quantity=quantity))
            changes.append(f"{product.name} × {quantity} added")
        elif item.quantity != quantity:
            changes.append(f"{item.product.name} {item.quantity} → {quantity}")
            item.quantity = quantity
    session.flush()
    return changes


def set_items(
    session: so.Session, line: OrderLine, items: Mapping[int, int], *, by: User
) -> OrderLine:
    """The draft line's products and quantities ({product id: quantity}): exactly these."""
    require_handler(session, by)
    require_draft(line.order)
    changes = replace_items(session, line, clean_items(session, items))
    session.expire(line, ["items"])
    if changes:
        write_note(
            session,
            line.order,
            "line",
            by=by,
            text=f"Line {line.position}: " + "; ".join(changes),
        )
    return line


def set_line_contact(
    session: so.Session, line: OrderLine, contact: Contact | None, *, by: User
) -> OrderLine:
    """The person on site for a draft line (the one who books the visit)."""
    require_handler(session, by)
    require_draft(line.order)
    check_contact(line.order, contact)
    if contact is None:
        raise Invalid("Choose the site contact.", field="contact")
    if line.contact_id != contact.id:
        line.contact_id = contact.id
        line.contact = contact
        session.flush()
        write_note(
            session,
            line.order,
            "line",
            by=by,
            text=f"Line {line.position}: site contact {contact.full_name}",
        )
    return line


# --- inline: a new address or person for the account -------------------------------------------


def add_location(
    session: so.Session,
    order: Order,
    *,
    label: str,
    street: str,
    city: str,
    postal_code: str,
    by: User,
) -> ServiceLocation:
    """A new address of the order's account, typed while adding a line (its territory
    comes from the postal code; an address no territory serves is refused)."""
    require_handler(session, by)
    if order.status in ENDED:
        raise Conflict(f"{order.number} is {words(order.status)}.")
    return add_service_location(
        session,
        order.account,
        label=label or "",
        street=street or "",
        city=city or "",
        postal_code=postal_code or "",
    )


def add_site_contact(
    session: so.Session,
    order: Order,
    *,
    full_name: str,
    email: str,
    phone: str = "",
    by: User,
) -> Contact:
    """A new person at the order's account, typed while choosing a line's site contact."""
    require_handler(session, by)
    if order.status in ENDED:
        raise Conflict(f"{order.number} is {words(order.status)}.")
    name = clean_name(full_name or "", whose="the person's")
    address = normalise_email(email or "")
    check_email(address)
    return add_contact(
        session, order.account, full_name=name, email=address, phone=clean_phone(phone or "")
    )


# --- placing and rejecting ----------------------------------------------------------------------


def place_problems(order: Order) -> list[str]:
    """Why the draft cannot be placed yet, in words (empty when it can)."""
    if not order.lines:
        return ["Add a line: an address with the products it needs."]
    problems = []
    for line in order.lines:
        if not line.items:
            problems.append(f"Line {line.position} ({line.location.label}) has no products.")
        if line.contact_id is None:
            problems.append(f"Line {line.position} ({line.location.label}) has no site contact.")
    return problems


def place(session: so.Session, order: Order, *, by: User) -> Order:
    """The draft goes to a manager for approval: it needs a line, and every line products
    and a site contact."""
    require_handler(session, by)
    order = lock_order(session, order)
    if order.status != "draft":
        raise Conflict(f"{order.number} is {words(order.status)}: only a draft can be placed.")
    problems = place_problems(order)
    if problems:
        raise Invalid(" ".join(problems))
    set_order_status(session, order, "placed", by=by)
    session.flush()
    return order


def reject(session: so.Session, order: Order, *, by: User, reason: str) -> Order:
    """A manager turns the placed order down, saying why."""
    require_manager(by)
    reason = clean_reason(reason, what="why the order is rejected")
    order = lock_order(session, order)  # an approval at the same moment waits, or wins
    if order.status != "placed":
        raise Conflict(
            f"{order.number} is {words(order.status)}: only a placed order can be rejected."
        )
    order.approver_id = by.id
    order.reason = reason
    set_order_status(session, order, "rejected", by=by, why=reason)
    session.flush()
    return order
