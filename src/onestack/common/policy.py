"""Role-based access control with oslo.policy's rule language.

Each service registers its default rules in code (``<service>/policies.py``);
an operator overrides any of them in a YAML file (``policy_file``) written in
oslo.policy's syntax::

    "identity:list_users": "role:admin or (role:reader and domain_id:%(target.domain_id)s)"

Supported: ``@`` (always), ``!`` (never), ``rule:NAME``, ``role:NAME``,
``KEY:VALUE`` generic checks against the request credentials (the value may
be a ``%(target.attr)s`` substitution or a literal, the key may be a quoted
literal compared to the value), ``and``, ``or``, ``not`` and parentheses.
The file is re-read when it changes.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, PolicyNotAuthorized


class Check(Protocol):
    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool: ...


@dataclass(frozen=True)
class _Always:
    value: bool

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return self.value


@dataclass(frozen=True)
class _Rule:
    name: str

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return enforcer.check_rule(self.name, target, creds)


@dataclass(frozen=True)
class _Role:
    match: str

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        wanted = _substitute(self.match, target)
        if wanted is None:
            return False
        return wanted.lower() in (r.lower() for r in creds.get("roles", ()))


@dataclass(frozen=True)
class _Generic:
    kind: str
    match: str

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        value = _substitute(self.match, target)
        if value is None:
            return False
        kind = self.kind
        if len(kind) >= 2 and kind[0] == kind[-1] and kind[0] in "'\"":
            return kind[1:-1] == value
        if kind in creds:
            actual = creds[kind]
        else:
            actual = _lookup(creds, kind)
            if actual is _MISSING:
                return False
        if isinstance(actual, list | tuple | set):
            return value in (str(item) for item in actual)
        if actual is None:
            return False
        if isinstance(actual, bool):
            return value.lower() == str(actual).lower()
        return str(actual) == value


@dataclass(frozen=True)
class _Not:
    check: Check

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return not self.check(target, creds, enforcer)


@dataclass(frozen=True)
class _And:
    checks: tuple[Check, ...]

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return all(check(target, creds, enforcer) for check in self.checks)


@dataclass(frozen=True)
class _Or:
    checks: tuple[Check, ...]

    def __call__(
        self, target: Mapping[str, Any], creds: Mapping[str, Any], enforcer: Enforcer
    ) -> bool:
        return any(check(target, creds, enforcer) for check in self.checks)


_MISSING = object()
_SUBST = re.compile(r"%\(([^)]+)\)s")


def _lookup(mapping: Mapping[str, Any], dotted: str) -> Any:
    if dotted in mapping:
        return mapping[dotted]
    current: Any = mapping
    for part in dotted.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def _substitute(template: str, target: Mapping[str, Any]) -> str | None:
    """Fill ``%(name)s`` from the target; ``None`` when a name is missing."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        value = _lookup(target, match.group(1))
        if value is _MISSING or value is None:
            missing = True
            return ""
        return str(value)

    result = _SUBST.sub(fill, template)
    return None if missing else result


_TOKEN = re.compile(r"\s*(\(|\)|(?:%\([^)]*\)|[^\s()])+)")


def parse_rule(text: str) -> Check:
    """Parse one rule string; raises ``ValueError`` on a syntax error."""
    tokens = [t for t in _TOKEN.findall(text) if t]
    if not tokens:
        return _Always(True)
    parser = _Parser(tokens)
    check = parser.parse_or()
    if parser.pos != len(tokens):
        raise ValueError(f"unexpected {tokens[parser.pos]!r} in rule {text!r}")
    return check


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError("unexpected end of rule")
        self.pos += 1
        return token

    def parse_or(self) -> Check:
        checks = [self.parse_and()]
        while self._peek() == "or":
            self._take()
            checks.append(self.parse_and())
        return checks[0] if len(checks) == 1 else _Or(tuple(checks))

    def parse_and(self) -> Check:
        checks = [self.parse_not()]
        while self._peek() == "and":
            self._take()
            checks.append(self.parse_not())
        return checks[0] if len(checks) == 1 else _And(tuple(checks))

    def parse_not(self) -> Check:
        if self._peek() == "not":
            self._take()
            return _Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Check:
        token = self._take()
        if token == "(":
            check = self.parse_or()
            if self._take() != ")":
                raise ValueError("missing ')'")
            return check
        if token == "@":
            return _Always(True)
        if token == "!":
            return _Always(False)
        if ":" not in token:
            raise ValueError(f"not a check: {token!r}")
        kind, match = token.split(":", 1)
        if kind == "rule":
            return _Rule(match)
        if kind == "role":
            return _Role(match)
        return _Generic(kind, match)


def flatten_target(target: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"target": {"user": {"id": 1}}}`` → also ``{"target.user.id": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in target.items():
        name = f"{prefix}{key}"
        flat[name] = value
        if isinstance(value, Mapping):
            flat.update(flatten_target(value, name + "."))
    return flat


class Enforcer:
    """Default rules in code, overridden by a YAML file that is re-read on change."""

    def __init__(self, defaults: Mapping[str, str], policy_file: Path | None = None) -> None:
        self._defaults = {name: parse_rule(rule) for name, rule in defaults.items()}
        self._default_text = dict(defaults)
        self._policy_file = policy_file
        self._overrides: dict[str, Check] = {}
        self._file_stamp: tuple[float, int] | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._load_file()

    def register_defaults(self, defaults: Mapping[str, str]) -> None:
        for name, rule in defaults.items():
            self._defaults[name] = parse_rule(rule)
            self._default_text[name] = rule

    @property
    def rules(self) -> dict[str, str]:
        return dict(self._default_text)

    def _load_file(self) -> None:
        path = self._policy_file
        if path is None:
            return
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            self._overrides, self._file_stamp = {}, None
            return
        stamp = (stat.st_mtime, stat.st_size)
        if stamp == self._file_stamp:
            return
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a policy file maps rule names to rule strings")
        self._overrides = {str(k): parse_rule(str(v)) for k, v in data.items()}
        self._file_stamp = stamp

    def _maybe_reload(self) -> None:
        if self._policy_file is None:
            return
        now = time.monotonic()
        if now - self._checked_at < 1.0:
            return
        with self._lock:
            self._checked_at = now
            self._load_file()

    def check_rule(self, name: str, target: Mapping[str, Any], creds: Mapping[str, Any]) -> bool:
        check = self._overrides.get(name) or self._defaults.get(name)
        if check is None:
            return False
        return check(target, creds, self)

    def authorize(
        self, ctx: RequestContext, action: str, target: Mapping[str, Any] | None = None
    ) -> bool:
        if ctx.is_internal:
            return True
        if action not in self._defaults and action not in self._overrides:
            raise KeyError(f"policy rule {action!r} is not registered")
        self._maybe_reload()
        full_target = flatten_target(target or {})
        return self.check_rule(action, full_target, ctx.credentials())

    def enforce(
        self, ctx: RequestContext, action: str, target: Mapping[str, Any] | None = None
    ) -> None:
        if not self.authorize(ctx, action, target):
            raise PolicyNotAuthorized(action=action)


def validate_rule_text(text: str) -> None:
    try:
        parse_rule(text)
    except ValueError as exc:
        raise BadRequest(f"Invalid policy rule: {exc}") from exc
