"""Errors as RFC 9457 problem details (application/problem+json).

Every refusal carries a stable `code` a program can switch on, a `detail` written for a
person, and the `field` at fault when one is. The services' own errors (PortalError and
its kinds) map onto problems here; the API never invents a second set of rules.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from portal.api import API_PREFIX, bp
from portal.api.schemas import window_out
from portal.db import rollback_request_session
from portal.errors import PortalError
from portal.ratelimit import RateLimited

PROBLEM_TYPE = "application/problem+json"

# Stable codes by HTTP status, for errors that bring no code of their own.
CODES = {
    400: "malformed_request",
    401: "unauthenticated",
    403: "not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}
TITLES = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Server error",
}
# Service errors whose class says more than their status: their own stable code.
CLASS_CODES = {"WindowTaken": "window_taken", "IllegalTransition": "illegal_transition"}


class Unauthenticated(PortalError, status=401): ...


class Malformed(PortalError, status=400): ...


class UnsupportedMediaType(PortalError, status=415):
    """A body sent as something other than JSON (text/plain, a form): never guessed at."""


class InvalidInput(PortalError, status=422):
    """Input that failed validation: one entry per field, the first one named in `field`."""

    def __init__(self, errors: list[dict[str, str]]):
        first = errors[0]
        super().__init__(first["message"], field=first["field"])
        self.errors = errors


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    code = code or CODES.get(status, "error")
    body = {
        "type": f"urn:portal:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "field": field,
        **extra,
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_for(err: PortalError) -> Response:
    rollback_request_session()
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(err, InvalidInput):
        extra["errors"] = err.errors
    elif err.field:
        extra["errors"] = [{"field": err.field, "message": err.message}]
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(err.retry_after)
    alternatives = getattr(err, "alternatives", None)
    if alternatives is not None:
        extra["alternatives"] = [window_out(w, None).model_dump(mode="json") for w in alternatives]
    return problem(
        err.status,
        err.message,
        code=CLASS_CODES.get(type(err).__name__),
        field=err.field,
        headers=headers,
        **extra,
    )


def _http_problem(err: HTTPException) -> Response:
    status = err.code or 500
    detail = {
        404: f"There is nothing at {request.path}.",
        405: "That method is not available here.",
        # The route's own limit where it has one (a file to import), else the app's.
        413: "The request body is too large: send at most "
        f"{(request.max_content_length or 0) // 1024} KB.",
    }.get(status, err.description or TITLES.get(status, "Error"))
    headers = {}
    if status == 405:
        allow = dict(err.get_headers()).get("Allow")
        if allow:
            headers["Allow"] = allow
    return problem(status, detail, headers=headers)


@bp.errorhandler(PortalError)
def _portal_error(err: PortalError):
    return problem_for(err)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    rollback_request_session()
    if err.code == 500:
        return problem(500, "Something went wrong on our side. Please try again.")
    return _http_problem(err)


@bp.errorhandler(500)
def _server_error(err):
    rollback_request_session()
    return problem(500, "Something went wrong on our side. Please try again.")


def _exists(err: MethodNotAllowed) -> bool:
    """Whether the path is a resource at all, for one of the methods the router allows.

    Werkzeug's router checks a rule's method before its converters, so where one path
    has two methods (GET and POST /cases/{id}/comments), a POST with an id the converter
    refuses (0, or past MAX_ID) is "405, try GET" though a GET is 404 too: the answer
    is then 404, as for every other path that names no record."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in err.valid_methods or ():
        try:
            adapter.match(request.path, method=method)
        except HTTPException:
            continue
        return True
    return False


def register_api_error_handlers(app: Flask) -> None:
    """Unknown paths, wrong methods and too large bodies under /api/ answer in
    problem+json too.

    Routing errors happen before a blueprint is known (and a body may be read before the
    view), so the blueprint's handlers do not see them: the app's handlers for 404, 405
    and 413 are wrapped, and pages keep theirs.
    """
    for status in (404, 405, 413):
        previous = dict(app.error_handler_spec[None].get(status, {}))
        page_handler = next(iter(previous.values()), None)

        def handler(err, _page_handler=page_handler):
            if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
                if isinstance(err, MethodNotAllowed) and not _exists(err):
                    err = NotFound()
                return _http_problem(err)
            return _page_handler(err) if _page_handler is not None else err

        app.register_error_handler(status, handler)
