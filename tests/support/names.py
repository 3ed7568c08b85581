"""Names for test resources."""

from __future__ import annotations

import uuid


def unique(prefix: str) -> str:
    """A name no other test, or parallel run, uses: ``<prefix>-<10 hex digits>``."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
