"""Fifty concurrent writers on SQLite, and the identity API on MariaDB."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.functional.identity.helpers import Client, issue, token, unique
from tests.support.databases import mariadb_database
from tests.support.server import RunningCloud, new_cloud


def _worker(cloud: RunningCloud, admin_token: str, member_role: str) -> list[int]:
    client = Client(cloud, admin_token)
    statuses = []
    for _ in range(2):
        project = client.post("/projects", json={"project": {"name": unique("cc")}})
        user = client.post("/users", json={"user": {"name": unique("cc")}})
        statuses += [project.status_code, user.status_code]
        if project.status_code != 201 or user.status_code != 201:
            continue
        pid, uid = project.json()["project"]["id"], user.json()["user"]["id"]
        grant = f"/projects/{pid}/users/{uid}/roles/{member_role}"
        statuses.append(client.put(grant).status_code)
        statuses.append(client.head(grant).status_code)
        statuses.append(client.get("/role_assignments", params={"user.id": uid}).status_code)
        statuses.append(client.delete(grant).status_code)
        statuses.append(client.delete(f"/users/{uid}").status_code)
        statuses.append(client.delete(f"/projects/{pid}").status_code)
    return statuses


def test_fifty_concurrent_writers_on_sqlite(tmp_path: Path) -> None:
    running = new_cloud(tmp_path).start()
    try:
        admin_token = token(running)
        client = Client(running, admin_token)
        member = client.get("/roles", params={"name": "member"}).json()["roles"][0]["id"]
        with ThreadPoolExecutor(max_workers=50) as pool:
            futures = [pool.submit(_worker, running, admin_token, member) for _ in range(50)]
            statuses = [s for f in futures for s in f.result()]
        assert len(statuses) == 50 * 2 * 8
        assert all(s < 500 for s in statuses), sorted(set(statuses))
        assert set(statuses) <= {200, 201, 204}, sorted(set(statuses))
        log = running.log_path.read_text(errors="replace")
        assert "database is locked" not in log
        assert "Traceback" not in log
    finally:
        running.stop()


@pytest.mark.mariadb
def test_identity_on_mariadb(tmp_path: Path) -> None:
    with mariadb_database() as url:
        running = new_cloud(tmp_path, db_url=url).start()
        try:
            client = Client(running, token(running))
            name = unique("maria")
            user = client.post("/users", json={"user": {"name": name, "password": "pw-maria-1"}})
            assert user.status_code == 201
            project = client.post("/projects", json={"project": {"name": name}})
            uid, pid = user.json()["user"]["id"], project.json()["project"]["id"]
            member = client.get("/roles", params={"name": "member"}).json()["roles"][0]["id"]
            assert client.put(f"/projects/{pid}/users/{uid}/roles/{member}").status_code == 204
            scoped = issue(running, name, "pw-maria-1", {"project": {"id": pid}})
            assert scoped.status_code == 201
            assert {r["name"] for r in scoped.json()["token"]["roles"]} == {"member", "reader"}
            assert client.post("/users", json={"user": {"name": name}}).status_code == 409
            assert client.delete(f"/users/{uid}").status_code == 204
            held = scoped.headers["X-Subject-Token"]
            assert Client(running, held).get("/auth/projects").status_code == 401
            assert requests.get(running.auth_url, timeout=5).status_code == 200
        finally:
            running.stop()
