"""The OpenAPI 3.1 document, generated from the registered operations, and a page that
reads it for people (server-rendered: no script, nothing from another origin)."""

from __future__ import annotations

from functools import cache

from flask import jsonify, render_template

from portal.api import bp
from portal.api.registry import OPERATIONS, openapi_document

DESCRIPTION = (
    "The booking portal's JSON API: the same services and rules as its pages. "
    "Authenticate with a personal API token (`Authorization: Bearer pt_...`), made on "
    "your profile page. Requests are rate-limited per user, all its tokens together, "
    "and requests without a valid token per client address (429 with Retry-After). "
    "Request bodies are limited to 1 MB (413). "
    "Errors are `application/problem+json` with a stable `code`, a `detail` for people "
    "and the `field` at fault. Times are RFC 3339 instants; `local_*` fields carry the "
    "same instant in the zone named beside them."
)


@cache
def document() -> dict:
    return openapi_document(title="Portal API", version="1.0.0", description=DESCRIPTION)


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())


@bp.get("/docs")
def docs_page():
    spec = document()
    operations = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            operations.append({"path": path, "method": method.upper(), **op})
    tags = [t["name"] for t in spec["tags"]]
    return render_template(
        "api/docs.html",
        spec=spec,
        tags=tags,
        operations=operations,
        count=len(OPERATIONS),
        type_label=type_label,
        ref_name=ref_name,
    )


def ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def type_label(schema: dict) -> str:
    """A schema in a few words: "integer", "list of WindowOut", "string or null"."""
    if "$ref" in schema:
        return ref_name(schema)
    if "anyOf" in schema:
        return " or ".join(type_label(s) for s in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "list of " + type_label(schema.get("items", {}))
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return str(kind)
