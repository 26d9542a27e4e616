"""The imports pages (managers and admins): the list, an upload's form, its dry run with
Apply and Discard, and the raw file. Each view parses, calls one service, commits and
renders; the rules live in portal/imports/services.py."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from portal.access import role_required
from portal.db import commit, get_session, rollback_request_session
from portal.errors import NotFound, PortalError
from portal.extensions import csrf
from portal.imports import services as svc
from portal.imports.forms import ActionForm, UploadForm
from portal.imports.kinds import all_kinds, kind_of
from portal.imports.models import ROW_OUTCOMES
from portal.imports.storage import size_limit_message
from portal.pagination import page_arg

bp = Blueprint("imports", __name__)


def _load(import_id: int):
    try:
        return svc.get_import(get_session(), import_id)
    except NotFound:
        abort(404)


@bp.get("/")
@role_required("manager")
def index():
    kind = request.args.get("kind") or None
    page = svc.list_imports(get_session(), kind, page_arg(request.args.get("page")))
    return render_template("imports/list.html", page=page, kinds=_labels(), kind=kind)


def _labels() -> dict[str, str]:
    return {k.kind: k.label for k in all_kinds()}


def _upload_form() -> UploadForm:
    form = UploadForm()
    form.kind.choices = [(k.kind, k.label) for k in all_kinds()]
    if not form.is_submitted() and request.args.get("kind") in _labels():
        form.kind.data = request.args["kind"]
    return form


def _upload_page(form: UploadForm, error: str | None = None, status: int = 200):
    chosen = kind_of(form.kind.data or "") or next(iter(all_kinds()), None)
    return render_template(
        "imports/new.html",
        form=form,
        chosen=chosen,
        error=error,
        max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
    ), status


@bp.route("/new", methods=["GET", "POST"])
@role_required("manager")
@csrf.exempt  # checked below, once the body may be as large as an import
def new_import():
    # The app takes 1 MiB bodies; this one may carry a whole file. The limit is raised
    # before anything reads the body (the CSRF check included).
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"] + 64 * 1024
    try:
        if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        form = _upload_form()
        if not form.validate_on_submit():
            return _upload_page(form, status=422 if form.is_submitted() else 200)
    except RequestEntityTooLarge:
        form = UploadForm(formdata=None)
        form.kind.choices = [(k.kind, k.label) for k in all_kinds()]
        form.kind.data = request.args.get("kind")
        limit = current_app.config["IMPORT_MAX_BYTES"]
        return _upload_page(form, size_limit_message(limit), 413)
    upload = form.file.data
    try:
        imp = svc.check_file(
            get_session(),
            form.kind.data,
            upload.stream,
            upload.filename or "upload",
            source="upload",
            by=current_user,
        )
    except PortalError as err:
        rollback_request_session()
        return _upload_page(form, err.message, err.status)
    commit()
    return redirect(url_for("imports.detail", import_id=imp.id))


@bp.get("/<int:import_id>")
@role_required("manager")
def detail(import_id: int):
    imp = _load(import_id)
    outcome = request.args.get("outcome")
    outcome = outcome if outcome in ROW_OUTCOMES else None
    rows = svc.rows_of(get_session(), imp, outcome, page_arg(request.args.get("page")))
    kind = kind_of(imp.kind)
    return render_template(
        "imports/detail.html",
        imp=imp,
        rows=rows,
        outcome=outcome,
        kind_label=kind.label if kind else imp.kind,
        summary=svc.summary(imp),
        form=ActionForm(),
    )


@bp.post("/<int:import_id>/apply")
@role_required("manager")
def apply(import_id: int):
    return _act(import_id, svc.apply_import, "applied")


@bp.post("/<int:import_id>/discard")
@role_required("manager")
def discard(import_id: int):
    return _act(import_id, svc.discard_import, "discarded")


def _act(import_id: int, action, verb: str):
    imp = _load(import_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action(get_session(), imp, by=current_user)
    except PortalError as err:
        rollback_request_session()
        flash(err.message, "error")
        return redirect(url_for("imports.detail", import_id=import_id))
    commit()
    if imp.status == verb:
        flash(f"{imp.number} was {verb}: {svc.summary(imp)}.", "success")
    else:
        flash(f"{imp.number} was not {verb}: {imp.message}", "error")
    return redirect(url_for("imports.detail", import_id=import_id))


@bp.get("/<int:import_id>/file")
@role_required("manager")
def download(import_id: int):
    imp = _load(import_id)
    path = svc.raw_file_path(imp)
    if not path.is_file():
        abort(404)
    return send_file(
        path,
        as_attachment=True,
        download_name=imp.filename,
        mimetype="application/octet-stream",
    )
