"""Default policy rules: none; Swift authorises with ownership and container ACLs (``acl``)."""

from __future__ import annotations

RULES: dict[str, str] = {}
