from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from onestack.identity.fernet import KeyRepository, TokenFormatter, TokenPayload


def _payload() -> TokenPayload:
    now = datetime.now(UTC).replace(microsecond=123456)
    return TokenPayload(
        user_id="u",
        methods=("password",),
        expires_at=now + timedelta(hours=1),
        issued_at=now,
        audit_ids=("a1",),
        project_id="p",
    )


def test_round_trip_and_tamper(tmp_path: Path) -> None:
    keys = KeyRepository(tmp_path / "keys")
    keys.initialize()
    formatter = TokenFormatter(keys)
    payload = _payload()
    token = formatter.issue(payload)
    assert "=" not in token
    assert formatter.parse(token) == payload
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    assert formatter.parse(tampered) is None
    assert formatter.parse("") is None and formatter.parse("x" * 2000) is None


def test_rotation_keeps_old_tokens_until_their_key_is_dropped(tmp_path: Path) -> None:
    keys = KeyRepository(tmp_path / "keys", max_active=3)
    keys.initialize()
    formatter = TokenFormatter(keys)
    old = formatter.issue(_payload())
    assert keys.rotate() == 2
    assert formatter.parse(old) is not None
    new = formatter.issue(_payload())
    keys.rotate()
    assert formatter.parse(old) is None  # key 1 dropped: 3 keys kept (0, 2, 3)
    assert formatter.parse(new) is not None
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["0", "2", "3"]
    assert (tmp_path / "keys" / "0").stat().st_mode & 0o777 == 0o600
