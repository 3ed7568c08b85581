"""OS-OAUTH1 consumers (``/v3/OS-OAUTH1/consumers``).

A consumer's secret is generated at creation, shown in that response only and
kept encrypted with the credential keys; it can never be changed.  The rest of
OS-OAUTH1 (request tokens, authorization, access tokens) is not implemented and
answers 501 (``api/unsupported.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.identity.core import IdentityCore, get_or_404, new_id
from onestack.identity.fernet import KeyRepository
from onestack.identity.models import OAuthConsumer
from onestack.identity.resources import split_extra

FIELDS = ("description",)


@dataclass(frozen=True)
class CreatedConsumer:
    consumer: OAuthConsumer
    secret: str


class ConsumerManager:
    def __init__(self, core: IdentityCore, keys: KeyRepository) -> None:
        self.core = core
        self.policy = core.enforcer
        self.keys = keys

    def create(self, ctx: RequestContext, data: dict[str, Any]) -> CreatedConsumer:
        self.policy.enforce(ctx, "identity:create_consumer", {})
        fields, extra = split_extra(data, FIELDS)
        extra.pop("secret", None)
        secret = secrets.token_hex(16)
        with self.core.write("consumer") as session:
            consumer = OAuthConsumer(
                id=new_id(),
                description=fields.get("description"),
                encrypted_secret=self.keys.fernet().encrypt(secret.encode()).decode(),
                extra=extra,
            )
            session.add(consumer)
            session.flush()
        return CreatedConsumer(consumer, secret)

    def list(self, ctx: RequestContext) -> list[OAuthConsumer]:
        self.policy.enforce(ctx, "identity:list_consumers", {})
        with self.core.read() as session:
            return list(session.scalars(select(OAuthConsumer).order_by(OAuthConsumer.id)))

    def show(self, ctx: RequestContext, consumer_id: str) -> OAuthConsumer:
        self.policy.enforce(ctx, "identity:get_consumer", {})
        with self.core.read() as session:
            return get_or_404(session, OAuthConsumer, "consumer", consumer_id)

    def update(self, ctx: RequestContext, consumer_id: str, data: dict[str, Any]) -> OAuthConsumer:
        self.policy.enforce(ctx, "identity:update_consumer", {})
        if not data:
            raise BadRequest("The consumer update needs at least one attribute.")
        if "secret" in data:
            raise BadRequest("A consumer's secret cannot be changed.")
        if "id" in data and data["id"] != consumer_id:
            raise BadRequest("Cannot change ID")
        data = {k: v for k, v in data.items() if k != "id"}
        fields, extra = split_extra(data, FIELDS)
        with self.core.write("consumer") as session:
            consumer = get_or_404(session, OAuthConsumer, "consumer", consumer_id)
            if "description" in fields:
                consumer.description = fields["description"]
            if extra:
                consumer.extra = {**consumer.extra, **extra}
            session.flush()
        return consumer

    def delete(self, ctx: RequestContext, consumer_id: str) -> None:
        self.policy.enforce(ctx, "identity:delete_consumer", {})
        with self.core.write("consumer") as session:
            session.delete(get_or_404(session, OAuthConsumer, "consumer", consumer_id))
