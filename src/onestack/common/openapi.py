"""Every service's ``/openapi.json``: a valid OpenAPI 3.1 document that describes
the request bodies the routes check.

FastAPI writes the document from the routes' signatures, but onestack's routes
read many path parameters from the URL themselves and their bodies through
``json_body`` (one parser with the limits of ``onestack.common.jsonbody``), so the
raw document names parameters it never defines and no request body.
``complete`` repairs it once, when it is first served:

- every ``{name}`` of a path is defined as a string path parameter of each of
  its operations;
- a route answering several methods gets one operation id per method;
- methods OpenAPI has no name for (Swift's ``COPY``) are left out;
- request bodies declared with ``request_body`` keep their pydantic schemas, whose
  shared definitions move to ``components/schemas``.

A route declares its body with
``@router.post(path, openapi_extra=request_body(FlavorCreate, "flavor"))``; the
same model checks the body at run time through ``parse_body``.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from typing import Any

import pydantic

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_REF_TEMPLATE = "#/components/schemas/{model}"


def json_schema(model: type[pydantic.BaseModel], wrapper: str | None = None) -> dict[str, Any]:
    """The JSON schema of a body checked by ``parse_body(model, body, wrapper=...)``."""
    schema = model.model_json_schema(ref_template=_REF_TEMPLATE)
    if wrapper is None:
        return schema
    defs = schema.pop("$defs", None)
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {wrapper: schema},
        "required": [wrapper],
    }
    if defs:
        wrapped["$defs"] = defs
    return wrapped


def request_body(
    model: type[pydantic.BaseModel] | None = None,
    wrapper: str | None = None,
    *,
    schema: dict[str, Any] | None = None,
    required: bool = True,
    media_type: str = "application/json",
) -> dict[str, Any]:
    """``openapi_extra`` describing a route's JSON body: ``model`` (inside
    ``{wrapper: ...}`` when given), or a JSON ``schema`` written out."""
    if schema is None:
        assert model is not None, "request_body needs a model or a schema"
        schema = json_schema(model, wrapper)
    elif wrapper is not None:
        schema = {"type": "object", "properties": {wrapper: schema}, "required": [wrapper]}
    return {"requestBody": {"required": required, "content": {media_type: {"schema": schema}}}}


def _hoist_defs(node: Any, components: dict[str, Any]) -> None:
    """Move every ``$defs`` below ``node`` into ``components`` (refs already point there)."""
    if isinstance(node, dict):
        defs = node.pop("$defs", None)
        if isinstance(defs, dict):
            for name, definition in defs.items():
                components.setdefault(name, definition)
                _hoist_defs(definition, components)
        for value in node.values():
            _hoist_defs(value, components)
    elif isinstance(node, list):
        for value in node:
            _hoist_defs(value, components)


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """The repaired document (see the module docstring); ``document`` and the schemas
    routes share are left as they are."""
    doc = copy.deepcopy(document)
    paths: dict[str, Any] = doc.get("paths", {})
    seen: Counter[str] = Counter()
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for path, item in paths.items():
        for method in [m for m in item if m not in METHODS and m != "parameters"]:
            del item[method]
        names = _PATH_PARAM.findall(path)
        for method in [m for m in METHODS if m in item]:
            operation = item[method]
            parameters = operation.setdefault("parameters", [])
            defined = {p.get("name") for p in parameters if p.get("in") == "path"}
            for name in names:
                if name not in defined:
                    parameters.append(
                        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    )
            if not parameters:
                del operation["parameters"]
            operation_id = operation.get("operationId")
            if operation_id:
                seen[operation_id] += 1
                if seen[operation_id] > 1:
                    operation["operationId"] = f"{operation_id}_{method}_{seen[operation_id]}"
            _hoist_defs(operation.get("requestBody"), components)
    if not components:
        del doc["components"]["schemas"]
        if not doc["components"]:
            del doc["components"]
    return doc
