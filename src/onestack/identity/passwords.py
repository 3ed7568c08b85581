"""Password and secret hashing with argon2id at RFC 9106's recommended strength.

Hashing holds the GIL-free C implementation in a worker thread; a semaphore
bounds how many run at once (each takes ``memory_kib`` of memory), so a burst
of logins queues rather than exhausting memory.
"""

from __future__ import annotations

import os
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class PasswordHashing:
    def __init__(
        self, *, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._slots = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))

    def hash(self, secret: str) -> str:
        with self._slots:
            return self._hasher.hash(secret)

    def verify(self, hashed: str | None, secret: str) -> bool:
        if not hashed:
            # Spend the same time as a real check so that timing tells nothing.
            with self._slots:
                self._hasher.hash(secret)
            return False
        with self._slots:
            try:
                return self._hasher.verify(hashed, secret)
            except (VerificationError, InvalidHashError):
                return False
