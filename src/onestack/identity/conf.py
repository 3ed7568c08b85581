"""The identity service's settings (``[identity]`` in the TOML file)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IdentitySettings(BaseModel):
    """Tokens and password hashing of the identity service."""

    token_expiration: int = Field(3600, ge=60, description="Token lifetime in seconds.")
    allow_expired_window: int = Field(
        172800, ge=0, description="How long after expiry a service may still read a token."
    )
    fernet_max_active_keys: int = Field(3, ge=3, description="Keys kept by `keys rotate`.")
    argon2_time_cost: int = Field(3, ge=1, description="argon2id passes (RFC 9106: 3).")
    argon2_memory_kib: int = Field(65536, ge=8192, description="Memory per password hash.")
    argon2_parallelism: int = Field(4, ge=1, description="argon2id lanes (RFC 9106: 4).")
    token_cache_seconds: float = Field(
        5.0, ge=0, description="How long a replica trusts a validated token without the database."
    )
