"""A small route registry: each API view declares its inputs and outputs as pydantic
models, and the same declaration validates the request and writes the OpenAPI 3.1
document (pydantic's JSON Schema is the 2020-12 dialect OpenAPI 3.1 uses).

`operation(...)` wraps a view so that, in this order, it authenticates the token (401),
counts it against the rate limit (429), checks the role (403), checks that a body is
JSON (415), validates the path, query, header and body (400/422), and only then runs
the view with the parsed values: nothing is written before the input is known to be
good.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Response, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from portal.api import API_PREFIX, bp
from portal.api.auth import authenticate_request
from portal.api.errors import (
    PROBLEM_TYPE,
    TITLES,
    InvalidInput,
    Malformed,
    UnsupportedMediaType,
)
from portal.api.schemas import Problem
from portal.errors import NotAllowed
from portal.ids import MAX_ID  # larger ids are refused by the route, not the database

ID = f"int(min=1, max={MAX_ID})"  # the path converter for record ids
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_PATH_PARAM = re.compile(r"<(?:[^<>:]+:)?(\w+)>")
# A word in a path (a kind of import): what the views accept there.
PATH_WORD = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    description: str
    tag: str
    roles: tuple[str, ...]
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel]
    status: int
    errors: tuple[int, ...]
    idempotency_key: bool
    path_params: tuple[str, ...] = field(default=())
    # A body the view reads itself, as a stream (a file to import): its media types.
    raw_body: tuple[str, ...] = field(default=())


OPERATIONS: list[Operation] = []


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    response: type[BaseModel],
    roles: tuple[str, ...] = (),
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    idempotency_key: bool = False,
    raw_body: tuple[str, ...] = (),
) -> Callable:
    """Register `view(user, **path, query=..., body=..., idempotency_key=...)` on the API.

    The view returns an instance of `response`; it is sent as JSON with `status`.
    `roles` lists who may call it (higher staff roles included, as on the pages).
    `raw_body` names the media types of a body the view reads itself (a file), in place
    of a JSON `body` model.
    """

    def decorator(view: Callable) -> Callable:
        op = Operation(
            method=method.upper(),
            rule=rule,
            endpoint=view.__name__,
            summary=summary,
            description=(view.__doc__ or "").strip(),
            tag=tag,
            roles=roles,
            query=query,
            body=body,
            response=response,
            status=status,
            errors=errors,
            idempotency_key=idempotency_key,
            path_params=tuple(_PATH_PARAM.findall(rule)),
            raw_body=raw_body,
        )

        @wraps(view)
        def wrapped(**path: Any) -> Response:
            user = authenticate_request()
            if roles and not user.has_role(*roles):
                raise NotAllowed(
                    f"A {user.role}'s token cannot use this operation "
                    f"(it is for: {', '.join(roles)})."
                )
            kwargs: dict[str, Any] = {}
            if body is not None:
                _require_json_body()
            if query is not None:
                kwargs["query"] = _parse(query, request.args.to_dict(flat=True), None)
            if idempotency_key:
                kwargs["idempotency_key"] = _idempotency_key()
            if body is not None:
                kwargs["body"] = _parse(body, _json_body(), None)
            result = view(user, **path, **kwargs)
            return Response(
                result.model_dump_json(by_alias=True),
                status=status,
                mimetype="application/json",
            )

        bp.add_url_rule(rule, endpoint=op.endpoint, view_func=wrapped, methods=[op.method])
        OPERATIONS.append(op)
        return wrapped

    return decorator


def _require_json_body() -> None:
    """Read a body only when it says it is JSON (application/json or a +json type): a
    text/plain or form body, which a page on another site can send without asking, is
    refused with 415 rather than parsed. An empty body has no type to check."""
    if not request.get_data(cache=True).strip():
        return
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return
    raise UnsupportedMediaType(
        f"Send the body as JSON, with Content-Type: application/json (not "
        f"{mimetype or 'no Content-Type'}).",
        field="Content-Type",
    )


def _json_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Malformed("The request body is not valid JSON.", field="body") from None
    except RecursionError:
        # The decoder recurses once per level: JSON nested about a thousand deep runs out
        # of stack. No body of ours nests more than a few levels.
        raise Malformed("The request body is nested too deeply.", field="body") from None


def _idempotency_key() -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput(
            [
                {
                    "field": "Idempotency-Key",
                    "message": "Send an Idempotency-Key header: 1 to 64 letters, digits "
                    "or . _ : - (a new one per booking; a retry reuses it).",
                }
            ]
        )
    return key


def _parse(model: type[BaseModel], data: Any, _where: str | None) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise InvalidInput(
            [
                {
                    "field": ".".join(str(part) for part in e["loc"]) or "body",
                    "message": e["msg"],
                }
                for e in err.errors(include_url=False, include_input=False)
            ]
        ) from None


# --- the OpenAPI document -------------------------------------------------------------------


def openapi_document(*, title: str, version: str, description: str) -> dict:
    """The OpenAPI 3.1 document of every registered operation."""
    outputs = {op.response for op in OPERATIONS} | {Problem}
    inputs = {op.body for op in OPERATIONS if op.body is not None}
    ref_template = "#/components/schemas/{model}"
    refs, definitions = models_json_schema(
        [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)]
        + [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)],
        ref_template=ref_template,
    )
    problem_ref = refs[(Problem, "serialization")]
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        path = API_PREFIX + _PATH_PARAM.sub(r"{\1}", op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation_object(
            op, refs, problem_ref, ref_template
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": "/"}],
        "security": [{"token": []}],
        "tags": [{"name": name} for name in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (pt_...), made on your profile "
                    "page or with `portal create-token`.",
                }
            },
        },
    }


def _operation_object(op: Operation, refs: dict, problem_ref: dict, ref_template: str) -> dict:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(op.rule, name)}
        for name in op.path_params
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(by_alias=True, ref_template=ref_template)
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            prop = dict(prop)
            param = {"name": name, "in": "query", "required": name in required}
            if "description" in prop:
                param["description"] = prop.pop("description")
            prop.pop("title", None)
            param["schema"] = prop
            parameters.append(param)
    if op.idempotency_key:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "A key of your choosing, new for each booking; repeating a "
                "request with the same key returns the appointment it made, never a second.",
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern},
            }
        )
    responses = {
        str(op.status): {
            "description": "Success",
            "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
        }
    }
    for status in _error_statuses(op):
        response = {
            "description": TITLES[status],
            "content": {PROBLEM_TYPE: {"schema": problem_ref}},
        }
        if status == 429:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds until the rate-limit window starts again.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
        responses[str(status)] = response
    operation = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": responses,
    }
    description = op.description
    if op.roles:
        description += f"\n\nFor tokens of: {', '.join(op.roles)} (and higher staff roles)."
    if description.strip():
        operation["description"] = description.strip()
    if parameters:
        operation["parameters"] = parameters
    if op.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    if op.raw_body:
        operation["requestBody"] = {
            "required": True,
            "content": {
                media: {"schema": {} if media == "application/json" else {"type": "string"}}
                for media in op.raw_body
            },
        }
    return operation


def _path_schema(rule: str, name: str) -> dict:
    """A record id (our int converter), or a word (a kind of import) where the rule
    takes a plain string."""
    if re.search(rf"<(?:string(?:\([^>]*\))?:)?{name}>", rule):
        return {"type": "string", "minLength": 1, "maxLength": 40, "pattern": PATH_WORD.pattern}
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _error_statuses(op: Operation) -> list[int]:
    statuses = {401, 429, *op.errors}
    if op.roles:
        statuses.add(403)
    if op.path_params:
        statuses.add(404)
    if op.query is not None or op.body is not None or op.idempotency_key:
        statuses.add(422)
    if op.body is not None or op.raw_body:
        statuses.update((400, 413, 415))
    if op.raw_body:
        statuses.add(422)
    return sorted(statuses)
