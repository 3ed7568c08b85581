"""The identity service's public Python interface.

Other services (inside the control plane) use only this object: the token
validator for the request pipeline, the catalog, and EC2 secrets for the S3
API.  The HTTP routes call the sub-managers it holds.
"""

from __future__ import annotations

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.exceptions import Unauthorized
from onestack.common.policy import Enforcer
from onestack.config import Settings
from onestack.identity.assignment import AssignmentManager, effective_role_ids, roles_by_id
from onestack.identity.catalog import CatalogManager
from onestack.identity.core import IdentityCore
from onestack.identity.credentials import CredentialManager, Ec2Secret
from onestack.identity.domain_config import DomainConfigManager
from onestack.identity.endpoint_filter import EndpointFilterManager
from onestack.identity.fernet import KeyRepository, TokenFormatter
from onestack.identity.models import Domain, Project, User
from onestack.identity.oauth1 import ConsumerManager
from onestack.identity.policy_store import PolicyStore
from onestack.identity.resources import ResourceManager
from onestack.identity.tokens import TokenManager


class IdentityManager:
    def __init__(self, settings: Settings, db: Database, enforcer: Enforcer) -> None:
        self.core = IdentityCore(settings, db, enforcer)
        self.token_keys = KeyRepository(
            settings.state_dir / "fernet-keys", settings.identity.fernet_max_active_keys
        )
        self.credential_keys = KeyRepository(
            settings.state_dir / "credential-keys", settings.identity.fernet_max_active_keys
        )
        self.resources = ResourceManager(self.core)
        self.assignments = AssignmentManager(self.core)
        self.catalog = CatalogManager(self.core)
        self.endpoint_filter = EndpointFilterManager(self.core)
        self.policies = PolicyStore(self.core)
        self.credentials = CredentialManager(self.core, self.credential_keys)
        self.consumers = ConsumerManager(self.core, self.credential_keys)
        self.domain_config = DomainConfigManager(self.core)
        self.tokens = TokenManager(self.core, TokenFormatter(self.token_keys))
        self.trusts = self.tokens.trusts

    def initialize_keys(self) -> None:
        self.token_keys.initialize()
        self.credential_keys.initialize()

    def lookup_ec2(self, access: str) -> Ec2Secret | None:
        return self.credentials.lookup_ec2(access)

    def context_for(self, user_id: str, project_id: str, request_id: str = "") -> RequestContext:
        """The context of a user acting on a project without a token (EC2/S3 signatures):
        the user, its domain and the project must be enabled, and the roles are the
        user's effective roles there.  Raises Unauthorized otherwise."""
        with self.core.read() as session:
            user = session.get(User, user_id)
            project = session.get(Project, project_id)
            if user is None or not user.enabled or project is None or not project.enabled:
                raise Unauthorized("The credential's user or project is unknown or disabled.")
            domains = [session.get(Domain, user.domain_id), session.get(Domain, project.domain_id)]
            if any(d is None or not d.enabled for d in domains):
                raise Unauthorized("The credential's domain is disabled.")
            roles = roles_by_id(session, effective_role_ids(session, user.id, project=project))
        if not roles:
            raise Unauthorized("The credential's user has no role on its project.")
        return RequestContext(
            request_id=request_id,
            user_id=user.id,
            user_name=user.name,
            user_domain_id=user.domain_id,
            project_id=project.id,
            project_name=project.name,
            project_domain_id=project.domain_id,
            roles=tuple(r.name for r in roles),
        )
