"""Version discovery at ``/``, ``/versions`` and ``/v2`` (Glance's document)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from onestack.common.app import base_url

router = APIRouter()

CURRENT = 16  # v2.16
UPDATED = "2023-11-30T00:00:00Z"


def versions(request: Request) -> dict[str, Any]:
    href = f"{base_url(request)}/v2/"
    values = []
    for minor in range(CURRENT, -1, -1):
        values.append(
            {
                "id": f"v2.{minor}",
                "status": "CURRENT" if minor == CURRENT else "SUPPORTED",
                "links": [{"rel": "self", "href": href}],
            }
        )
    return {"versions": values}


@router.get("/")
@router.get("/v2")
@router.get("/v2/")
def multiple_choices(request: Request) -> JSONResponse:
    return JSONResponse(versions(request), status_code=300)


@router.get("/versions")
def list_versions(request: Request) -> JSONResponse:
    return JSONResponse(versions(request))
