"""Fernet keys on disk and the token format.

Keys live in ``<state_dir>/fernet-keys`` as Keystone lays them out: ``0`` is
the staged key, the highest number is the primary (used to encrypt), the rest
are secondaries kept to decrypt tokens issued before a rotation.  ``rotate``
promotes the staged key, stages a new one and drops the oldest secondaries
beyond ``max_active``; every token issued before a rotation stays valid.

A token is a Fernet token (AES-CBC + HMAC-SHA256) whose payload is a compact
JSON document: user, methods, scope, expiry, audit ids, and the application
credential or trust it came from.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from onestack.common.files import fsync_path
from onestack.identity.exceptions import KeyRepositoryBroken


@dataclass(frozen=True)
class TokenPayload:
    user_id: str
    methods: tuple[str, ...]
    expires_at: datetime
    issued_at: datetime
    audit_ids: tuple[str, ...]
    project_id: str | None = None
    domain_id: str | None = None
    system: str | None = None
    app_cred_id: str | None = None
    #: OS-TRUST: the trust a trust-scoped token was issued with
    trust_id: str | None = None

    def encode(self) -> bytes:
        doc: dict[str, object] = {
            "u": self.user_id,
            "m": list(self.methods),
            "e": _micros(self.expires_at),
            "i": _micros(self.issued_at),
            "a": list(self.audit_ids),
        }
        for key, value in (
            ("p", self.project_id),
            ("d", self.domain_id),
            ("s", self.system),
            ("c", self.app_cred_id),
            ("t", self.trust_id),
        ):
            if value is not None:
                doc[key] = value
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> TokenPayload:
        doc = json.loads(data)
        return cls(
            user_id=doc["u"],
            methods=tuple(doc["m"]),
            expires_at=_from_micros(doc["e"]),
            issued_at=_from_micros(doc["i"]),
            audit_ids=tuple(doc["a"]),
            project_id=doc.get("p"),
            domain_id=doc.get("d"),
            system=doc.get("s"),
            app_cred_id=doc.get("c"),
            trust_id=doc.get("t"),
        )


def _micros(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


def _from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


class KeyRepository:
    def __init__(self, directory: Path, max_active: int = 3) -> None:
        self.directory = directory
        self.max_active = max_active
        self._lock = threading.Lock()
        self._fernet: MultiFernet | None = None
        self._stamp = 0

    def initialize(self) -> None:
        """Create the key directory with a staged and a primary key if empty."""
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        if not self._key_files():
            self._write(0, Fernet.generate_key())
            self._write(1, Fernet.generate_key())

    def _write(self, index: int, key: bytes) -> None:
        path = self.directory / str(index)
        tmp = self.directory / f".{index}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def _key_files(self) -> dict[int, Path]:
        if not self.directory.is_dir():
            return {}
        return {int(p.name): p for p in self.directory.iterdir() if p.name.isdigit()}

    def rotate(self) -> int:
        """Promote the staged key; returns the new primary's index."""
        with self._lock:
            files = self._key_files()
            if 0 not in files:
                raise KeyRepositoryBroken(reason="no staged key", directory=str(self.directory))
            new_primary = max(files) + 1
            os.replace(files[0], self.directory / str(new_primary))
            self._write(0, Fernet.generate_key())
            indexes = sorted(i for i in self._key_files() if i != 0)
            while len(indexes) + 1 > self.max_active:
                (self.directory / str(indexes.pop(0))).unlink()
            fsync_path(self.directory)
            self._fernet = None
            return new_primary

    def stamp(self) -> int:
        """Changes whenever a key is added or removed (the directory's mtime)."""
        return os.stat(self.directory).st_mtime_ns

    def fernet(self) -> MultiFernet:
        """The keys, re-read when the directory changes (a rotation by another process)."""
        stamp = self.stamp()
        with self._lock:
            if self._fernet is None or stamp != self._stamp:
                files = self._key_files()
                if not files:
                    raise KeyRepositoryBroken(
                        reason="no Fernet keys", directory=str(self.directory)
                    )
                order = sorted(files, reverse=True)  # primary first, staged (0) last
                keys = [Fernet(files[i].read_bytes().strip()) for i in order]
                self._fernet, self._stamp = MultiFernet(keys), stamp
            return self._fernet


class TokenFormatter:
    """Turns payloads into token strings and back."""

    def __init__(self, keys: KeyRepository) -> None:
        self.keys = keys

    def issue(self, payload: TokenPayload) -> str:
        token = self.keys.fernet().encrypt(payload.encode())
        return token.decode().rstrip("=")

    def parse(self, token: str) -> TokenPayload | None:
        """The payload of a token these keys made, or None."""
        if not token or len(token) > 1024:
            return None
        padded = token + "=" * (-len(token) % 4)
        try:
            base64.urlsafe_b64decode(padded)
            data = self.keys.fernet().decrypt(padded.encode())
            return TokenPayload.decode(data)
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None
