"""Who may do what to an account, container or object.

The owner of ``AUTH_<project_id>`` is a token scoped to that project with an
operator role (``admin``, ``member``, ``swiftoperator``), or only read access
with ``reader``; a token with the ``ResellerAdmin`` role, or an admin token
with system scope, owns every account.  Anyone else needs a container ACL:

- ``X-Container-Read``: ``<project>:<user>`` entries (ids or names, ``*`` for
  any), role names, referrer entries ``.r:*`` / ``.r:<host>`` / ``.r:-<host>``
  (which also work without a token), and ``.rlistings`` (referrers may list);
- ``X-Container-Write``: the same without referrers.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Forbidden, Unauthorized

RESELLER_PREFIX = "AUTH_"
OPERATOR_ROLES = frozenset({"admin", "member", "_member_", "swiftoperator"})
READER_ROLES = frozenset({"reader"})


def project_of(account: str) -> str | None:
    if account.startswith(RESELLER_PREFIX) and len(account) > len(RESELLER_PREFIX):
        return account[len(RESELLER_PREFIX) :]
    return None


def account_for(project_id: str) -> str:
    return f"{RESELLER_PREFIX}{project_id}"


@dataclass(frozen=True)
class Caller:
    ctx: RequestContext
    referrer: str | None = None
    #: set when a valid temp URL authorises this one request
    tempurl: bool = False
    #: set when a valid X-Container-Sync-Auth authorises this one request
    container_sync: bool = False

    @property
    def authenticated(self) -> bool:
        return self.ctx.authenticated

    def is_reseller(self) -> bool:
        roles = set(self.ctx.roles)
        return (
            "ResellerAdmin" in roles
            or self.ctx.is_internal
            or (self.ctx.system_scope == "all" and "admin" in roles)
        )

    def owner_level(self, account: str) -> str | None:
        """ "write", "read" or None: what this caller may do as the account's owner."""
        if self.is_reseller():
            return "write"
        project = project_of(account)
        if project is None or not self.authenticated or self.ctx.project_id != project:
            return None
        roles = set(self.ctx.roles)
        if roles & OPERATOR_ROLES:
            return "write"
        if roles & READER_ROLES:
            return "read"
        return None

    def denied(self) -> Exception:
        """401 without credentials, 403 with them."""
        if self.authenticated:
            return Forbidden("Access was denied to this resource.")
        return Unauthorized("This server could not verify that you are authorized.")


def parse_acl(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def validate_acl(value: str, *, write: bool) -> str:
    for entry in parse_acl(value):
        if entry.startswith("."):
            name = entry.split(":", 1)[0]
            if write or name not in (".r", ".ref", ".referer", ".referrer", ".rlistings"):
                raise BadRequest(f"Invalid ACL entry {entry!r}.")
            if name != ".rlistings" and ":" not in entry:
                raise BadRequest(f"Invalid referrer ACL entry {entry!r}: no host.")
    return ",".join(parse_acl(value))


def _referrer_allowed(entries: list[str], referrer: str | None) -> bool:
    host = urlparse(referrer).hostname if referrer else None
    allowed = False
    for entry in entries:
        if not entry.startswith(".r"):
            continue
        if ":" not in entry:
            continue
        name, rule = entry.split(":", 1)
        if name not in (".r", ".ref", ".referer", ".referrer"):
            continue
        negate = rule.startswith("-")
        rule = rule.lstrip("-")
        if rule == "*" or (
            host is not None and (host == rule or (rule.startswith(".") and host.endswith(rule)))
        ):
            allowed = not negate
    return allowed


def _identity_allowed(entries: list[str], ctx: RequestContext) -> bool:
    if not ctx.authenticated:
        return False
    projects = {ctx.project_id, ctx.project_name} - {None}
    users = {ctx.user_id, ctx.user_name} - {None}
    for entry in entries:
        if entry.startswith("."):
            continue
        if ":" in entry:
            project, user = entry.split(":", 1)
            if (project == "*" or project in projects) and (user == "*" or user in users):
                return True
        elif entry in ctx.roles:
            return True
    return False


def read_allowed(acl: str, caller: Caller, *, listing: bool) -> bool:
    entries = parse_acl(acl)
    if _identity_allowed(entries, caller.ctx):
        return True
    if _referrer_allowed(entries, caller.referrer):
        return not listing or ".rlistings" in entries
    return False


def write_allowed(acl: str, caller: Caller) -> bool:
    return _identity_allowed(parse_acl(acl), caller.ctx)
