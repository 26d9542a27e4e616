"""Expected failures of our own, and the handlers that turn them into pages.

Services raise these when a person asked for something the rules do not allow; the
route or the handler shows the message. Bugs are not caught here: they stay 500s.
"""

from __future__ import annotations

from flask import Flask, render_template, request

from portal.db import rollback_request_session


class PortalError(Exception):
    """A request the rules refuse; `message` is written for the person who asked.

    A kind says its HTTP status in its header, `class Gone(PortalError, status=410)`
    (or sets `status` in its body)."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __init_subclass__(cls, *, status: int | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status


class Invalid(PortalError, status=422): ...


class NotAllowed(PortalError, status=403): ...


class NotFound(PortalError, status=404): ...


class Conflict(PortalError, status=409): ...


def put_on_form(form, error: PortalError) -> str | None:
    """Put a service's refusal on the form field it names; a refusal that names no field
    of this form is returned, to be shown above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None or not hasattr(field, "errors"):
        return error.message
    field.errors = [*field.errors, error.message]
    return None


def register_handlers(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        rollback_request_session()
        template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
        return render_template(template, title=title, message=message, status=status), status

    @app.errorhandler(PortalError)
    def portal_error(err: PortalError):
        return page(err.status, "That did not work", err.message)

    @app.errorhandler(400)
    def bad_request(err):
        return page(400, "Bad request", getattr(err, "description", "The request was malformed."))

    @app.errorhandler(403)
    def forbidden(err):
        return page(403, "Not allowed", "Your account cannot open this page.")

    @app.errorhandler(404)
    def not_found(err):
        return page(404, "Not found", f"There is nothing at {request.path}.")

    @app.errorhandler(405)
    def method_not_allowed(err):
        return page(405, "Not allowed", "That action is not available here.")

    @app.errorhandler(500)
    def server_error(err):
        return page(500, "Something went wrong", "We have been told. Please try again.")
