from __future__ import annotations

import json
from pathlib import Path

import pytest

from onestack.common.errors import ErrorStyle, render_exception
from onestack.common.exceptions import Conflict, NotFound, OverQuota
from onestack.config import load_settings, normalize_db_url


def test_error_styles() -> None:
    status, body, _ = render_exception(ErrorStyle.KEYSTONE, NotFound("gone"))
    assert status == 404
    assert json.loads(body) == {"error": {"code": 404, "title": "Not Found", "message": "gone"}}
    _, body, _ = render_exception(ErrorStyle.NOVA, NotFound("gone"))
    assert json.loads(body) == {"itemNotFound": {"code": 404, "message": "gone"}}
    _, body, _ = render_exception(ErrorStyle.NOVA, Conflict("busy"))
    assert json.loads(body) == {"conflictingRequest": {"code": 409, "message": "busy"}}

    class NetworkNotFound(NotFound):
        pass

    _, body, _ = render_exception(ErrorStyle.NEUTRON, NetworkNotFound("no net"))
    assert json.loads(body) == {
        "NeutronError": {"type": "NetworkNotFound", "message": "no net", "detail": ""}
    }
    status, body, content_type = render_exception(ErrorStyle.PLAIN, NotFound("gone"))
    assert content_type.startswith("text/plain") and b"404 Not Found" in body


def test_message_template() -> None:
    error = OverQuota(resource="users", requested=2, used=9, limit=10)
    assert error.message == "Quota exceeded for users: requested 2, in use 9, limit 10."


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "onestack.toml").write_text(
        'bind_host = "10.0.0.1"\nregion = "FromFile"\n[ports]\nidentity = 1111\nimage = 2222\n'
    )
    monkeypatch.setenv("ONESTACK_REGION", "FromEnv")
    monkeypatch.setenv("ONESTACK_PORTS__IMAGE", "3333")
    settings = load_settings(state_dir=tmp_path, bind_host="127.0.0.2")
    assert settings.bind_host == "127.0.0.2"  # flag beats file
    assert settings.region == "FromEnv"  # env beats file
    assert settings.ports.identity == 1111  # file beats default
    assert settings.ports.image == 3333
    assert settings.url("identity") == "http://127.0.0.2:1111"
    assert settings.database_url == f"sqlite:///{tmp_path / 'onestack.db'}"


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    (tmp_path / "onestack.toml").write_text("no_such_setting = 1\n")
    with pytest.raises(ValueError):
        load_settings(state_dir=tmp_path)


def test_db_url_normalisation() -> None:
    assert normalize_db_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_db_url("mysql://root@h/db") == "mysql+pymysql://root@h/db"
    assert normalize_db_url("sqlite:///x.db") == "sqlite:///x.db"
