"""What other services may use of the identity service (its public Python interface).

Every API authenticates its requests through ``tokens`` (the request pipeline's
``TokenValidator``); the S3 API looks up EC2 credentials and acts as their user
through ``lookup_ec2`` and ``context_for``.  Nothing else of identity is used by
another service, and never its tables.  (The all-in-one server builds the
``IdentityManager`` and runs ``identity.bootstrap`` at start, and the CLI
rotates the Fernet keys with ``identity.fernet``: identity's own start-up and
administration, not another service's use.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from onestack.common.context import RequestContext
from onestack.common.pipeline import TokenValidator

if TYPE_CHECKING:
    from onestack.identity.credentials import Ec2Secret


class IdentityService(Protocol):
    @property
    def tokens(self) -> TokenValidator:
        """Validates ``X-Auth-Token`` values for the request pipeline."""
        ...

    def ensure_service_user(
        self, name: str, password: str, roles: tuple[str, ...] = ("service",)
    ) -> str:
        """The id of a service's own user in the service project with ``roles`` there
        (created, or its password set, when needed); the orchestration engine is the
        trustee of stacks' trusts, the metering poller and the alarm evaluator are admins
        of the service project as Ceilometer's and Aodh's install guides make them."""
        ...

    def lookup_ec2(self, access: str) -> Ec2Secret | None:
        """The EC2 credential with this access key, or None."""
        ...

    def context_for(self, user_id: str, project_id: str, request_id: str = "") -> RequestContext:
        """The context of a user acting on a project without a token (EC2/S3 signatures);
        Unauthorized when the user, project or their domains are unknown or disabled."""
        ...
