"""Reading a JSON request body safely: every service's one parser.

``loads`` refuses, with a ``BadRequest`` in the caller's service format:

- malformed JSON or bytes that are not UTF-8;
- documents nested deeper than ``MAX_DEPTH`` (Python's parser would recurse until
  a ``RecursionError``; the code that walks the document afterwards would too);
- integers outside the signed 64-bit range, which no database column holds;
- strings with a lone UTF-16 surrogate (``"\\ud800"``), which are not Unicode text
  and cannot be encoded to UTF-8 for the database or a response.

The checks cost one C-speed count of brackets and one regular-expression search on
the raw body; only a body that could break a limit is walked (iteratively).
"""

from __future__ import annotations

import json
import re
from typing import Any

from onestack.common.exceptions import BadRequest

#: The deepest nesting of arrays and objects a request body may have.
MAX_DEPTH = 100
#: Integers a request body may carry: what a signed 64-bit column holds.
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

# A \uD800-\uDFFF escape: a surrogate half, legal only as half of a pair.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class MalformedBody(BadRequest):
    msg_fmt = "Malformed request body: {reason}"
    error_type = "MalformedRequestBody"  # neutron-lib's name for it


def _bounded_int(text: str) -> int:
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise MalformedBody(reason=f"integer {text[:40]} is out of range [{INT_MIN}, {INT_MAX}]")
    return value


def has_lone_surrogate(text: str) -> bool:
    """True when ``text`` holds a surrogate code point (no valid UTF-8 for it)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check(document: Any, check_depth: bool, check_strings: bool) -> None:
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if check_depth and depth > MAX_DEPTH:
                raise MalformedBody(reason=f"nested deeper than {MAX_DEPTH} levels")
            for key, item in value.items():
                if check_strings and has_lone_surrogate(key):
                    raise MalformedBody(reason="invalid Unicode (a lone surrogate) in a key")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if check_depth and depth > MAX_DEPTH:
                raise MalformedBody(reason=f"nested deeper than {MAX_DEPTH} levels")
            stack.extend((item, depth + 1) for item in value)
        elif check_strings and isinstance(value, str) and has_lone_surrogate(value):
            raise MalformedBody(reason="invalid Unicode (a lone surrogate) in a string")


def loads(raw: bytes | str) -> Any:
    """The JSON document in ``raw``; ``MalformedBody`` (400) when it breaks a rule above."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    try:
        # Strict UTF-8: json.loads would let encoded surrogates through ("surrogatepass").
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody(reason="the body is not UTF-8 text") from None
    try:
        document = json.loads(text, parse_int=_bounded_int)
    except RecursionError:
        raise MalformedBody(reason=f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise MalformedBody(reason=str(exc)) from None
    deep = data.count(b"[") + data.count(b"{") > MAX_DEPTH
    surrogates = _SURROGATE_ESCAPE.search(data) is not None
    if deep or surrogates:
        _check(document, deep, surrogates)
    return document
