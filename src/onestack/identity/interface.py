"""What other services may use of the identity service (its public Python interface).

Every API authenticates its requests through ``tokens`` (the request pipeline's
``TokenValidator``); the S3 API looks up EC2 credentials and acts as their user
through ``lookup_ec2`` and ``context_for``.  Nothing else of identity is used by
another service, and never its tables.  (The all-in-one server builds the
``IdentityManager`` and runs ``identity.bootstrap`` at start, and the CLI
rotates the Fernet keys with ``identity.fernet``: identity's own start-up and
administration, not another service's use; the services' own users are declared
on their plugins and made by that bootstrap.)
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

    def lookup_ec2(self, access: str) -> Ec2Secret | None:
        """The EC2 credential with this access key, or None."""
        ...

    def context_for(self, user_id: str, project_id: str, request_id: str = "") -> RequestContext:
        """The context of a user acting on a project without a token (EC2/S3 signatures);
        Unauthorized when the user, project or their domains are unknown or disabled."""
        ...
