"""Products and the decision table, for managers: the catalogue (list, add, edit,
deactivate), the published table in words with its draft editor (start, add, edit, move,
delete rows, publish, discard), and every version read-only."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal.access import role_required
from portal.booking.models import Service
from portal.db import commit, get_session
from portal.errors import PortalError
from portal.orders import catalogue, tables
from portal.orders.decision import attributes_text
from portal.orders.models import DecisionTable, Product
from portal.orders.planning import published_table
from portal.orders.table_words import describe_row
from portal.queues.services import list_queues
from portal.settings.forms import ActionForm
from portal.settings.helpers import check_action_form, load_or_404, me, refuse, save_form, status
from portal.settings.order_forms import DecisionRowForm, ProductForm, choices
from portal.workforce.models import Territory

# --- products ----------------------------------------------------------------------------------


@role_required("manager")
def products():
    return render_template(
        "settings/products.html", products=catalogue.list_products(get_session())
    )


def _product_form(product: Product | None = None) -> ProductForm:
    session = get_session()
    if product is None or request.method == "POST":
        form = ProductForm()
    else:
        form = ProductForm(
            formdata=None,
            data={
                "code": product.code,
                "name": product.name,
                "description": product.description,
                "needs_site_visit": product.needs_site_visit,
                "service_id": product.service_id,
                "needs_partner_visit": product.needs_partner_visit,
                "attributes": attributes_text(product.attributes or {}),
            },
        )
    services = catalogue.bookable_services(session)
    if product is not None and product.service is not None and product.service not in services:
        services.append(product.service)
    form.service_id.choices = choices(services, "No site visit")
    return form


def _product_data(form: ProductForm) -> catalogue.ProductData:
    return catalogue.ProductData(
        code=form.code.data or "",
        name=form.name.data or "",
        description=form.description.data or "",
        needs_site_visit=form.needs_site_visit.data,
        service_id=form.service_id.data,
        needs_partner_visit=form.needs_partner_visit.data,
        attributes=form.attributes.data or "",
    )


@role_required("manager")
def product_new():
    form = _product_form()
    done, error = save_form(
        form,
        lambda: catalogue.create_product(get_session(), _product_data(form), by=me()),
        lambda p: f"{p.name} ({p.code}) was added.",
        url_for("settings.products"),
    )
    if done:
        return done
    page = render_template("settings/products_form.html", form=form, product=None, error=error)
    return page, status(form, error)


@role_required("manager")
def product_edit(product_id: int):
    product = load_or_404(Product, product_id)
    form = _product_form(product)
    done, error = save_form(
        form,
        lambda: catalogue.update_product(get_session(), product, _product_data(form), by=me()),
        lambda p: f"{p.name} ({p.code}) was saved.",
        url_for("settings.products"),
    )
    if done:
        return done
    page = render_template(
        "settings/products_form.html",
        form=form,
        product=product,
        action_form=ActionForm(),
        error=error,
    )
    return page, status(form, error)


@role_required("manager")
def product_deactivate(product_id: int):
    product = load_or_404(Product, product_id)
    check_action_form()
    catalogue.deactivate_product(get_session(), product, by=me())
    commit()
    flash(f"{product.name} is no longer sold; orders that have it keep it.", "success")
    return redirect(url_for("settings.products"))


@role_required("manager")
def product_reactivate(product_id: int):
    product = load_or_404(Product, product_id)
    check_action_form()
    catalogue.reactivate_product(get_session(), product, by=me())
    commit()
    flash(f"{product.name} is on sale again.", "success")
    return redirect(url_for("settings.products"))


# --- the decision table ------------------------------------------------------------------------


def _table_page(error: str | None = None, problems: list[str] | None = None, code: int = 200):
    session = get_session()
    draft = tables.current_draft(session)
    page = render_template(
        "settings/decision_table.html",
        published=published_table(session),
        draft=draft,
        problems=problems
        if problems is not None
        else (tables.publish_problems(draft) if draft else []),
        describe=describe_row,
        action_form=ActionForm(),
        error=error,
    )
    return page, code


@role_required("manager")
def decision_table():
    return _table_page()


def _draft_action(action, done: str):
    """A button on the draft: check the token, act, commit and flash; a refusal shows the
    table page again with the reason."""
    check_action_form()
    try:
        action()
    except tables.PublishRefused as err:
        refuse(ActionForm(), err)
        return _table_page(problems=err.problems, error=err.message, code=err.status)
    except PortalError as err:
        refuse(ActionForm(), err)
        return _table_page(error=err.message, code=err.status)
    commit()
    flash(done, "success")
    return redirect(url_for("settings.decision_table"))


@role_required("manager")
def decision_draft_start():
    return _draft_action(
        lambda: tables.start_draft(get_session(), me()),
        "A draft was started from the published rows: change it, then publish it.",
    )


def _the_draft() -> DecisionTable:
    draft = tables.current_draft(get_session())
    if draft is None:
        abort(404)
    return draft


@role_required("manager")
def decision_draft_discard():
    draft = _the_draft()
    return _draft_action(
        lambda: tables.discard_draft(get_session(), draft, me()),
        "The draft was discarded; the published version is unchanged.",
    )


@role_required("manager")
def decision_publish():
    draft = _the_draft()
    version = draft.version
    return _draft_action(
        lambda: tables.publish(get_session(), draft, me()),
        f"Version {version} is published: orders approved from now on use it.",
    )


def _row_form(row=None) -> DecisionRowForm:
    session = get_session()
    if request.method == "POST":
        form = DecisionRowForm()
    else:
        data = tables.row_data(row) if row is not None else tables.RowData()
        form = DecisionRowForm(formdata=None, data=data.__dict__)
    form.product_id.choices = choices(
        catalogue.list_products(session), "Any product", lambda p: f"{p.name} ({p.code})"
    )
    form.territory_id.choices = choices(
        session.scalars(sa.select(Territory).order_by(Territory.name)), "Any territory"
    )
    form.queue_id.choices = choices(list_queues(session), "No queue")
    form.service_id.choices = choices(
        session.scalars(sa.select(Service).order_by(Service.name)), "No field visit"
    )
    return form


def _row_values(form: DecisionRowForm) -> tables.RowData:
    return tables.RowData(
        label=form.label.data or "",
        is_default=form.is_default.data,
        product_id=form.product_id.data,
        attributes=form.attributes.data or "",
        territory_id=form.territory_id.data,
        postal_prefix=form.postal_prefix.data or "",
        creates_work_order=form.creates_work_order.data,
        summary=form.summary.data or "",
        tasks=form.tasks.data or "",
        queue_id=form.queue_id.data,
        service_id=form.service_id.data,
        needs_appointment=form.needs_appointment.data,
    )


def _row_page(form, row, error):
    page = render_template(
        "settings/decision_row.html", form=form, row=row, draft=_the_draft(), error=error
    )
    return page, status(form, error)


@role_required("manager")
def decision_row_new():
    draft = _the_draft()
    form = _row_form()
    done, error = save_form(
        form,
        lambda: tables.add_row(get_session(), draft, _row_values(form)),
        "The row was added to the draft.",
        url_for("settings.decision_table"),
    )
    return done or _row_page(form, None, error)


def _draft_row(row_id: int):
    try:
        return tables.draft_row(get_session(), row_id)
    except PortalError:
        abort(404)


@role_required("manager")
def decision_row_edit(row_id: int):
    row = _draft_row(row_id)
    form = _row_form(row)
    done, error = save_form(
        form,
        lambda: tables.update_row(get_session(), row, _row_values(form)),
        "The row was saved in the draft.",
        url_for("settings.decision_table"),
    )
    return done or _row_page(form, row, error)


@role_required("manager")
def decision_row_delete(row_id: int):
    row = _draft_row(row_id)
    return _draft_action(
        lambda: tables.delete_row(get_session(), row), "The row was taken out of the draft."
    )


@role_required("manager")
def decision_row_move(row_id: int):
    row = _draft_row(row_id)
    direction = request.form.get("direction", "")
    return _draft_action(
        lambda: tables.move_row(get_session(), row, direction), f"The row moved {direction}."
    )


@role_required("manager")
def decision_versions():
    return render_template(
        "settings/decision_versions.html", versions=tables.versions(get_session())
    )


@role_required("manager")
def decision_version(version: int):
    table = tables.table_by_version(get_session(), version)
    if table is None or table.status == "draft":
        abort(404)
    return render_template("settings/decision_version.html", table=table, describe=describe_row)


def register(bp: Blueprint) -> None:
    """Products and the decision table."""
    bp.add_url_rule("/products", view_func=products)
    bp.add_url_rule("/products/new", view_func=product_new, methods=["GET", "POST"])
    bp.add_url_rule("/products/<int:product_id>", view_func=product_edit, methods=["GET", "POST"])
    bp.add_url_rule(
        "/products/<int:product_id>/deactivate", view_func=product_deactivate, methods=["POST"]
    )
    bp.add_url_rule(
        "/products/<int:product_id>/reactivate", view_func=product_reactivate, methods=["POST"]
    )
    bp.add_url_rule("/decision-table", view_func=decision_table)
    bp.add_url_rule("/decision-table/draft", view_func=decision_draft_start, methods=["POST"])
    bp.add_url_rule(
        "/decision-table/draft/discard", view_func=decision_draft_discard, methods=["POST"]
    )
    bp.add_url_rule("/decision-table/draft/publish", view_func=decision_publish, methods=["POST"])
    bp.add_url_rule(
        "/decision-table/draft/rows/new", view_func=decision_row_new, methods=["GET", "POST"]
    )
    bp.add_url_rule(
        "/decision-table/draft/rows/<int:row_id>",
        view_func=decision_row_edit,
        methods=["GET", "POST"],
    )
    bp.add_url_rule(
        "/decision-table/draft/rows/<int:row_id>/delete",
        view_func=decision_row_delete,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/decision-table/draft/rows/<int:row_id>/move",
        view_func=decision_row_move,
        methods=["POST"],
    )
    bp.add_url_rule("/decision-table/versions", view_func=decision_versions)
    bp.add_url_rule("/decision-table/versions/<int:version>", view_func=decision_version)
