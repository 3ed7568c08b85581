"""Schema-driven fuzzing of a running cloud from its own OpenAPI documents.

For every operation of a service's ``/openapi.json``, Hypothesis draws a bounded,
reproducible number of requests (``derandomize``, no shrinking): path parameters
from odd strings, huge integers and ids; the JSON body from the operation's
request-body schema (``from_schema``, for the JSON
Schema that pydantic writes) or, where none is described, arbitrary
JSON; listing queries (``limit``, ``marker``, ``sort_key``, ...) on GETs.  Each answer
must be below 500 (a 501 "not supported" is an answer), and a mutation that was
refused must leave the service's tables with as many rows as before (no
half-written record).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

METHODS = ("get", "put", "post", "delete", "patch", "head")
MUTATIONS = ("put", "post", "delete", "patch")

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#%"),
    min_size=1,
    max_size=24,
)
PATH_VALUES = st.one_of(
    _TEXT,
    st.uuids().map(str),
    st.sampled_from(["0", "-1", "18446744073709551616", "9223372036854775808", "default", "."]),
    st.integers().map(str),
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
LIST_QUERY = st.fixed_dictionaries(
    {},
    optional={
        "limit": st.one_of(st.integers(min_value=-5, max_value=2**65).map(str), _TEXT),
        "marker": _TEXT,
        "sort_key": _TEXT,
        "sort_dir": st.sampled_from(["asc", "desc", "up", ""]),
        "sort": _TEXT,
        "name": _TEXT,
        "all_tenants": st.sampled_from(["1", "true", "x"]),
        "fields": _TEXT,
    },
)


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    params: tuple[str, ...]
    body_schema: dict[str, Any] | None


@dataclass
class Findings:
    requests: int = 0
    failures: list[str] = field(default_factory=list)


def _inline(node: Any, components: dict[str, Any], depth: int = 0) -> Any:
    """``node`` with ``#/components/schemas/X`` references replaced by their schemas."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/") and depth < 8:
            return _inline(components[ref.rsplit("/", 1)[1]], components, depth + 1)
        return {k: _inline(v, components, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, components, depth) for v in node]
    return node


def operations(service: str, doc: dict[str, Any]) -> list[Operation]:
    components = doc.get("components", {}).get("schemas", {})
    found = []
    for path, item in sorted(doc["paths"].items()):
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            params = tuple(
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"
            )
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            body = _inline(schema, components) if schema is not None else None
            found.append(Operation(service, method, path, params, body))
    return found


_SIMPLE: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "string": st.text(max_size=20),
}


def from_schema(schema: Any) -> st.SearchStrategy[Any]:
    """Values of a JSON Schema as pydantic writes them (types, properties, required,
    anyOf, enum, const, bounds); mostly valid, with out-of-range values now and then."""
    if not isinstance(schema, dict) or not schema:
        return JSON_VALUES
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for combined in ("anyOf", "oneOf"):
        if combined in schema:
            return st.one_of([from_schema(s) for s in schema[combined]])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return from_schema(schema["allOf"][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}) for k in kind])
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
        return st.text(min_size=low, max_size=min(high, low + 40)) | st.text(max_size=3)
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        return st.integers(min_value=low, max_value=high) | st.integers(-(2**64), 2**64)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {})), max_size=3)
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in properties.items() if k in required},
            optional={k: from_schema(v) for k, v in properties.items() if k not in required},
        )
    return _SIMPLE.get(str(kind), JSON_VALUES)


#: Attribute names OpenStack bodies share, for bodies no schema describes.
ATTRIBUTES = (
    "name", "description", "size", "availability_zone", "volume_type", "ram", "vcpus",
    "disk", "min_disk", "min_ram", "default_quota", "enabled", "metadata", "tags", "cidr",
    "ip_version", "network_id", "subnet_id", "port_id", "admin_state_up", "prefixes",
    "fixed_ips", "allocation_pools", "gateway_ip", "extra_specs", "is_public", "visibility",
    "protocol", "port_range_min", "port_range_max", "direction", "ethertype", "remote_ip_prefix",
    "security_group_id", "external_gateway_info", "routes", "floating_network_id", "mtu",
    "quota", "limit", "archive_policy_name", "resource_id", "rule", "type", "threshold",
    "template", "parameters", "stack_name", "timeout_mins", "disk_format", "container_format",
)  # fmt: skip


def _wrapper_key(path: str) -> str:
    """The body key a route most likely wants: the last fixed segment, singular."""
    segments = [s for s in path.split("/") if s and not s.startswith("{")]
    last = (segments[-1] if segments else "body").replace("-", "_").removeprefix("os_")
    return last[:-1] if last.endswith("s") else last


def _guessed_body(operation: Operation) -> st.SearchStrategy[Any]:
    attributes = st.dictionaries(st.sampled_from(ATTRIBUTES), JSON_VALUES, min_size=1, max_size=5)
    key = _wrapper_key(operation.path)
    return st.one_of(
        st.fixed_dictionaries({key: attributes}),
        st.fixed_dictionaries({key: attributes}),
        attributes,
        JSON_VALUES,
    )


def _body_strategy(operation: Operation) -> st.SearchStrategy[Any]:
    if operation.method not in ("put", "post", "patch"):
        return st.none()
    if operation.body_schema is not None:
        described = from_schema(operation.body_schema)
        return st.one_of(described, described, described, JSON_VALUES)
    return _guessed_body(operation)


class RowCounts:
    """Row counts of one service's tables in the cloud's SQLite database."""

    def __init__(self, database: Path, prefix: str, volatile: tuple[str, ...]) -> None:
        self.connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
        names = [
            row[0]
            for row in self.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?",
                (f"{prefix}%",),
            )
            if row[0] not in volatile
        ]
        self.names = names
        self.query = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{n}")' for n in names)

    def __call__(self) -> dict[str, int]:
        if not self.names:
            return {}
        row = self.connection.execute(self.query).fetchone()
        return dict(zip(self.names, row, strict=True))

    def close(self) -> None:
        self.connection.close()


def fuzz_operation(
    client: httpx.Client,
    base: str,
    operation: Operation,
    counts: Callable[[], dict[str, int]],
    findings: Findings,
    examples: int,
    *,
    known: tuple[str, ...] = (),
    tokens: tuple[str | None, ...] = (None,),
) -> None:
    """Send ``examples`` requests for ``operation``; path parameters are now and then
    ``known`` values (real ids), and each request goes with one of ``tokens`` (None:
    the client's own headers; "" for no token at all)."""
    values = st.one_of(PATH_VALUES, st.sampled_from(known)) if known else PATH_VALUES
    strategies: dict[str, st.SearchStrategy[Any]] = {
        "path": st.fixed_dictionaries({name: values for name in operation.params}),
        "body": _body_strategy(operation),
        "query": LIST_QUERY if operation.method == "get" else st.just({}),
        "token": st.sampled_from(tokens),
    }

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(**strategies)
    def run(path: dict[str, str], body: Any, query: dict[str, str], token: str | None) -> None:
        url = operation.path
        for name, value in path.items():
            url = url.replace("{" + name + "}", quote(value, safe=""))
        headers = {} if token is None else {"X-Auth-Token": token}
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if body is not None:
            kwargs["content"] = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        before = counts() if operation.method in MUTATIONS else None
        response = client.request(operation.method.upper(), base + url, **kwargs)
        findings.requests += 1
        who = "admin" if token is None else ("anonymous" if not token else "member")
        label = f"{operation.service} {operation.method.upper()} {url} as {who}: "
        label += repr(kwargs.get("content"))
        if response.status_code >= 500 and response.status_code != 501:
            findings.failures.append(f"{label} -> {response.status_code} {response.text[:300]}")
        elif before is not None and response.status_code >= 400:
            after = counts()
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            if changed:
                findings.failures.append(
                    f"{label} -> {response.status_code} but rows changed: {changed}"
                )

    run()
