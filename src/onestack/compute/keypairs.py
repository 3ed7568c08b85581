"""Key pairs (os-keypairs): imported or generated SSH keys, owned by a user."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from onestack.common.context import RequestContext
from onestack.common.db import is_duplicate, utcnow
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.pagination import PageRequest, SortKey, paginate
from onestack.compute.exceptions import DuplicateKeypair, KeypairNotFound, KeypairQuotaExceeded
from onestack.compute.models import Keypair
from onestack.compute.quotas import count_keypairs, engine

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore

_NAME = re.compile(r"^[a-zA-Z0-9 _.@-]+$")


def fingerprint(public_key: str) -> str:
    """MD5 colon-hex of an OpenSSH public key's blob, as Nova shows it."""
    parts = public_key.strip().split()
    if len(parts) < 2:
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint")
    try:
        serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
        blob = base64.b64decode(parts[1], validate=True)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # An unknown key type word (``foo AAAA...``) is UnsupportedAlgorithm.
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def generate() -> tuple[str, str]:
    """A new RSA key: (private key PEM, OpenSSH public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private, public + " Generated-by-onestack"


class KeypairManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db
        self.enforcer = core.enforcer

    def _owner(self, ctx: RequestContext, user_id: str | None, rule: str) -> str:
        owner = user_id or ctx.user_id or ""
        self.enforcer.enforce(ctx, f"os_compute_api:os-keypairs:{rule}", {"user_id": owner})
        return owner

    def list(
        self, ctx: RequestContext, user_id: str | None, limit: int | None, marker: str | None
    ) -> list[Keypair]:
        owner = self._owner(ctx, user_id, "index")
        stmt = select(Keypair).where(Keypair.user_id == owner)
        marker_id = None
        with self.db.reader() as session:
            if marker is not None:
                row = session.scalars(stmt.where(Keypair.name == marker)).first()
                if row is None:
                    raise BadRequest(f"marker [{marker}] not found")
                marker_id = row.name
            page = PageRequest(limit=limit, marker=marker_id, sort=(SortKey("name"),))
            try:
                return paginate(session, stmt, Keypair, page, {"name": Keypair.name}, Keypair.name)
            except NotFound:
                raise BadRequest(f"marker [{marker}] not found") from None

    def get(self, ctx: RequestContext, name: str, user_id: str | None = None) -> Keypair:
        owner = self._owner(ctx, user_id, "show")
        with self.db.reader() as session:
            row = session.scalars(
                select(Keypair).where(Keypair.user_id == owner, Keypair.name == name)
            ).first()
            if row is None:
                raise KeypairNotFound(name=name, user_id=owner)
            return row

    def create(self, ctx: RequestContext, data: dict[str, Any]) -> tuple[Keypair, str | None]:
        owner = self._owner(ctx, data.get("user_id"), "create")
        name = data["name"].strip()
        if not name or len(name) > 255 or not _NAME.match(name):
            raise BadRequest("Keypair data is invalid: Keypair name contains unsafe characters")
        private = None
        public = data.get("public_key")
        key_type = data.get("type") or "ssh"
        if public is None:
            private, public = generate() if key_type == "ssh" else generate_x509(owner)
        fp = fingerprint(public) if key_type == "ssh" else _x509_fingerprint(public)
        row = Keypair(
            user_id=owner,
            name=name,
            type=key_type,
            public_key=public.strip(),
            fingerprint=fp,
            created_at=utcnow(),
        )
        try:
            with self.db.writer() as session:
                quota = engine()
                limit = quota.limits(session, ctx.project_id or "")["key_pairs"]
                if 0 <= limit <= count_keypairs(session, owner):
                    raise KeypairQuotaExceeded()
                exists = session.scalars(
                    select(Keypair).where(Keypair.user_id == owner, Keypair.name == name)
                ).first()
                if exists is not None:
                    raise DuplicateKeypair(name=name)
                session.add(row)
        except IntegrityError as exc:
            if is_duplicate(exc):
                raise DuplicateKeypair(name=name) from None
            raise
        return row, private

    def delete(self, ctx: RequestContext, name: str, user_id: str | None = None) -> None:
        owner = self._owner(ctx, user_id, "delete")
        with self.db.writer() as session:
            row = session.scalars(
                select(Keypair).where(Keypair.user_id == owner, Keypair.name == name)
            ).first()
            if row is None:
                raise KeypairNotFound(name=name, user_id=owner)
            session.delete(row)

    def lookup(self, user_id: str, name: str) -> Keypair | None:
        with self.db.reader() as session:
            return session.scalars(
                select(Keypair).where(Keypair.user_id == user_id, Keypair.name == name)
            ).first()


def generate_x509(user_id: str) -> tuple[str, str]:
    """A new RSA key and a self-signed certificate for it: (private key PEM, certificate PEM),
    what Nova generates for an x509 key pair created without a public key."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id or "onestack")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


def _x509_fingerprint(pem: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    digest = cert.fingerprint(hashes.SHA1()).hex()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
