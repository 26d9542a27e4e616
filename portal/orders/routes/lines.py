"""An order's lines on the team's pages: add one to a draft (a location of the account or
a new one, a site contact of the account or a new one, quantities of the products),
edit one (a draft's, or in flight before its point of no return), remove one from a
draft, and set a line's point of no return by hand."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from portal.accounts.models import Contact, ServiceLocation
from portal.db import commit, get_session, rollback_request_session
from portal.errors import Invalid, NotFound, PortalError, put_on_form
from portal.orders import inflight, services
from portal.orders.forms import NEW, ActionForm, LineForm, quantities
from portal.orders.inflight import ponr_block
from portal.orders.models import Order, OrderLine, Product
from portal.orders.routes.common import load_order, orders_team_required
from portal.orders.routes.staff import IN_FLIGHT, render_order

# The services' field names for a new address or person, as the form names them.
FORM_FIELDS = {
    "label": "location_label",
    "full_name": "contact_name",
    "email": "contact_email",
    "phone": "contact_phone",
}


def register(bp) -> None:
    bp.add_url_rule("/orders/<int:order_id>/lines/new", view_func=add_line, methods=["GET", "POST"])
    bp.add_url_rule(
        "/orders/<int:order_id>/lines/<int:line_id>", view_func=edit_line, methods=["GET", "POST"]
    )
    bp.add_url_rule(
        "/orders/<int:order_id>/lines/<int:line_id>/remove", view_func=remove_line, methods=["POST"]
    )
    bp.add_url_rule(
        "/orders/<int:order_id>/lines/<int:line_id>/ponr", view_func=set_ponr, methods=["POST"]
    )


def _products() -> list[Product]:
    return list(
        get_session().scalars(
            sa.select(Product).where(Product.active.is_(True)).order_by(Product.name, Product.id)
        )
    )


def _line(order: Order, line_id: int) -> OrderLine:
    for line in order.lines:
        if line.id == line_id:
            return line
    raise NotFound("That line is not this order's.")


def _form(order: Order, line: OrderLine | None) -> LineForm:
    form = LineForm()
    account = order.account
    form.location.choices = [
        SelectChoice(loc.id, f"{loc.label}: {loc.one_line}") for loc in account.locations
    ] + [SelectChoice(NEW, "A new address (below)")]
    form.contact.choices = [
        SelectChoice(c.id, f"{c.full_name} · {c.email}") for c in account.contacts
    ] + [SelectChoice(NEW, "A new contact (below)")]
    if request.method == "GET":
        if line is not None:
            form.location.data = line.location_id
            form.contact.data = line.contact_id or NEW
        else:
            used = {existing.location_id for existing in order.lines}
            free = [loc.id for loc in account.locations if loc.id not in used]
            form.location.data = free[0] if free else NEW
            form.contact.data = account.contacts[0].id if account.contacts else NEW
    return form


def _location(order: Order, form: LineForm) -> ServiceLocation:
    if form.location.data in (None, NEW):
        try:
            return services.add_location(
                get_session(),
                order,
                label=form.location_label.data or "",
                street=form.street.data or "",
                city=form.city.data or "",
                postal_code=form.postal_code.data or "",
                by=current_user,
            )
        except PortalError as err:
            err.field = FORM_FIELDS.get(err.field, err.field)
            raise
    for location in order.account.locations:
        if location.id == form.location.data:
            return location
    raise NotFound("That address is not the customer's.", field="location")


def _contact(order: Order, form: LineForm) -> Contact:
    if form.contact.data in (None, NEW):
        try:
            return services.add_site_contact(
                get_session(),
                order,
                full_name=form.contact_name.data or "",
                email=form.contact_email.data or "",
                phone=form.contact_phone.data or "",
                by=current_user,
            )
        except PortalError as err:
            err.field = FORM_FIELDS.get(err.field, err.field)
            raise
    for contact in order.account.contacts:
        if contact.id == form.contact.data:
            return contact
    raise NotFound("That contact is not the customer's.", field="contact")


def _quantities(products: list[Product]) -> dict[int, int]:
    found, problems = quantities(request.form, [p.id for p in products])
    if problems:
        raise Invalid(problems[0], field="items")
    return found


@orders_team_required
def add_line(order_id: int):
    session = get_session()
    order = load_order(order_id)
    if order.status != "draft":
        raise Invalid(
            f"{order.number} is {order.status.replace('_', ' ')}: only a draft takes new lines."
        )
    products = _products()
    form = _form(order, None)
    error = None
    if form.validate_on_submit():
        try:
            items = _quantities(products)
            location = _location(order, form)
            contact = _contact(order, form)
            line = services.add_line(session, order, location, contact=contact, by=current_user)
            if items:
                services.set_items(session, line, items, by=current_user)
        except PortalError as err:
            rollback_request_session()
            order = load_order(order_id)
            error = put_on_form(form, err) or ("Please check the form." if err.field else None)
        else:
            commit()
            flash(f"Line {line.position} added: {location.label}.", "success")
            return redirect(url_for("orders.order_page", order_id=order_id))
    elif request.method == "POST":
        error = "Please check the form."
    return _render_line(order, None, form, products, error)


@orders_team_required
def edit_line(order_id: int, line_id: int):
    session = get_session()
    order = load_order(order_id)
    line = _line(order, line_id)
    if order.status != "draft" and order.status not in IN_FLIGHT:
        raise Invalid(
            f"{order.number} is {order.status.replace('_', ' ')}: its lines cannot change."
        )
    products = _products()
    form = _form(order, line)
    error = None
    if form.validate_on_submit():
        try:
            items = _quantities(products)
            location = _location(order, form)
            contact = _contact(order, form)
            inflight.edit_line(
                session, line, items=items, location=location, contact=contact, by=current_user
            )
        except PortalError as err:
            rollback_request_session()
            order = load_order(order_id)
            line = _line(order, line_id)
            error = put_on_form(form, err) or ("Please check the form." if err.field else None)
        else:
            commit()
            flash(f"Line {line.position} saved.", "success")
            return redirect(url_for("orders.order_page", order_id=order_id))
    elif request.method == "POST":
        error = "Please check the form."
    return _render_line(order, line, form, products, error)


def _render_line(order, line, form, products, error):
    posted = request.method == "POST"
    if posted:
        amounts = {p.id: request.form.get(f"qty-{p.id}", "") for p in products}
    else:
        held = {item.product_id: item.quantity for item in (line.items if line else [])}
        amounts = {p.id: held.get(p.id, "") for p in products}
    return (
        render_template(
            "orders/line.html",
            order=order,
            line=line,
            form=form,
            products=products,
            amounts=amounts,
            error=error,
            in_flight=order.status in IN_FLIGHT,
            locked=ponr_block(line, current_user.time_zone) if line is not None else None,
        ),
        422 if posted else 200,
    )


@orders_team_required
def remove_line(order_id: int, line_id: int):
    return _line_action(order_id, line_id, "remove")


@orders_team_required
def set_ponr(order_id: int, line_id: int):
    return _line_action(order_id, line_id, "ponr")


def _line_action(order_id: int, line_id: int, action: str):
    session = get_session()
    order = load_order(order_id)
    line = _line(order, line_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if action == "remove":
            services.remove_line(session, line, by=current_user)
            message = f"Line {line.position} removed."
        else:
            inflight.set_ponr(session, line, by=current_user)
            message = f"Line {line.position} is past its point of no return: it cannot change now."
    except PortalError as err:
        rollback_request_session()
        return render_order(load_order(order_id), error=err.message, status=err.status)
    commit()
    flash(message, "success")
    return redirect(url_for("orders.order_page", order_id=order_id))
