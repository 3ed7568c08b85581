"""Application credentials, ``/v3/credentials`` and ``OS-EC2``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, parse_body, require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.common.openapi import request_body
from onestack.identity.api import schemas, views
from onestack.identity.api.deps import base, identity, query, self_url
from onestack.identity.credentials import Ec2Secret

router = APIRouter(prefix="/v3")
Ctx = Depends(require_context)
Body = Depends(json_body)


@router.post(
    "/users/{user_id}/application_credentials",
    openapi_extra=request_body(schemas.AppCredCreate, "application_credential"),
)
def create_app_cred(
    request: Request, user_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = parse_body(schemas.AppCredCreate, body, wrapper="application_credential")
    fields = data.model_dump(exclude_unset=True)
    if data.roles is not None:
        fields["roles"] = [r.model_dump(exclude_none=True) for r in data.roles]
    if data.access_rules is not None:
        fields["access_rules"] = [r.model_dump(exclude_none=True) for r in data.access_rules]
    created = identity(request).credentials.create_app_cred(ctx, user_id, fields)
    return JSONResponse(
        {
            "application_credential": views.app_cred(
                base(request), created.credential, created.secret
            )
        },
        status_code=201,
    )


@router.get("/users/{user_id}/application_credentials")
def list_app_creds(request: Request, user_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).credentials.list_app_creds(ctx, user_id, query(request))
    return JSONResponse(
        views.collection(
            "application_credentials",
            items,
            lambda c: views.app_cred(base(request), c),
            self_url(request),
        )
    )


@router.get("/users/{user_id}/application_credentials/{cred_id}")
def show_app_cred(
    request: Request, user_id: str, cred_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    cred = identity(request).credentials.show_app_cred(ctx, user_id, cred_id)
    return JSONResponse({"application_credential": views.app_cred(base(request), cred)})


@router.delete("/users/{user_id}/application_credentials/{cred_id}")
def delete_app_cred(
    request: Request, user_id: str, cred_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).credentials.delete_app_cred(ctx, user_id, cred_id)
    return Response(status_code=204)


# -- /v3/credentials -----------------------------------------------------


def _credential(request: Request, cred: Any) -> dict[str, Any]:
    manager = identity(request).credentials
    return views.credential(base(request), cred, manager.decrypt(cred))


@router.get("/credentials")
def list_credentials(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).credentials.list_credentials(ctx, query(request))
    return JSONResponse(
        views.collection("credentials", items, lambda c: _credential(request, c), self_url(request))
    )


@router.post("/credentials", openapi_extra=request_body(schemas.CredentialCreate, "credential"))
def create_credential(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = parse_body(schemas.CredentialCreate, body, wrapper="credential")
    cred = identity(request).credentials.create_credential(ctx, data.model_dump())
    return JSONResponse({"credential": _credential(request, cred)}, status_code=201)


@router.get("/credentials/{cred_id}")
def show_credential(request: Request, cred_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    cred = identity(request).credentials.show_credential(ctx, cred_id)
    return JSONResponse({"credential": _credential(request, cred)})


@router.patch(
    "/credentials/{cred_id}", openapi_extra=request_body(schemas.CredentialUpdate, "credential")
)
def update_credential(
    request: Request, cred_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = parse_body(schemas.CredentialUpdate, body, wrapper="credential")
    cred = identity(request).credentials.update_credential(
        ctx, cred_id, data.model_dump(exclude_unset=True)
    )
    return JSONResponse({"credential": _credential(request, cred)})


@router.delete("/credentials/{cred_id}")
def delete_credential(request: Request, cred_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).credentials.delete_credential(ctx, cred_id)
    return Response(status_code=204)


# -- OS-EC2 --------------------------------------------------------------


def _ec2(request: Request, secret: Ec2Secret) -> dict[str, Any]:
    return {
        "user_id": secret.user_id,
        "tenant_id": secret.project_id,
        "access": secret.access,
        "secret": secret.secret,
        "trust_id": None,
        "links": {
            "self": f"{base(request)}/v3/users/{secret.user_id}/credentials/OS-EC2/{secret.access}"
        },
    }


@router.post("/users/{user_id}/credentials/OS-EC2", openapi_extra=request_body(schemas.Ec2Create))
def create_ec2(
    request: Request, user_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = parse_body(schemas.Ec2Create, body)
    project_id = data.tenant_id or data.project_id or ctx.project_id
    if not project_id:
        raise BadRequest("tenant_id is required.")
    secret = identity(request).credentials.create_ec2(ctx, user_id, project_id)
    return JSONResponse({"credential": _ec2(request, secret)}, status_code=201)


@router.get("/users/{user_id}/credentials/OS-EC2")
def list_ec2(request: Request, user_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).credentials.list_ec2(ctx, user_id)
    return JSONResponse(
        {
            "credentials": [_ec2(request, s) for s in items],
            "links": {"self": self_url(request), "previous": None, "next": None},
        }
    )


@router.get("/users/{user_id}/credentials/OS-EC2/{access}")
def show_ec2(
    request: Request, user_id: str, access: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    secret = identity(request).credentials.show_ec2(ctx, user_id, access)
    return JSONResponse({"credential": _ec2(request, secret)})


@router.delete("/users/{user_id}/credentials/OS-EC2/{access}")
def delete_ec2(request: Request, user_id: str, access: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).credentials.delete_ec2(ctx, user_id, access)
    return Response(status_code=204)


# -- access rules of application credentials -----------------------------


@router.get("/users/{user_id}/access_rules")
def list_access_rules(request: Request, user_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).credentials.list_access_rules(ctx, user_id, query(request))
    return JSONResponse(
        views.collection(
            "access_rules",
            items,
            lambda r: views.access_rule(base(request), r),
            self_url(request),
        )
    )


@router.get("/users/{user_id}/access_rules/{rule_id}")
def show_access_rule(
    request: Request, user_id: str, rule_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    rule = identity(request).credentials.show_access_rule(ctx, user_id, rule_id)
    return JSONResponse({"access_rule": views.access_rule(base(request), rule)})


@router.delete("/users/{user_id}/access_rules/{rule_id}")
def delete_access_rule(
    request: Request, user_id: str, rule_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).credentials.delete_access_rule(ctx, user_id, rule_id)
    return Response(status_code=204)
