"""What every S3 handler needs: the object manager, the caller and its account."""

from __future__ import annotations

from dataclasses import dataclass

from onestack.object.acl import Caller
from onestack.object.manager import ObjectManager


@dataclass(frozen=True)
class S3Context:
    manager: ObjectManager
    caller: Caller
    #: the Swift account of the credential's project (``AUTH_<project_id>``)
    account: str
    #: the credential's project, shown as the owner of buckets and objects
    owner: str
