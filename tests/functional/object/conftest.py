"""One onestack for the object tests, with helpers for swiftclient and boto3.

The background replicator and auditor are off in this cloud so that the
durability tests decide when a pass runs (they call the passes directly on
the state directory, as ``onestack ring replicate`` does); the expirer and
container sync run (sync every second).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import swiftclient
from botocore.config import Config

from tests.support.names import unique
from tests.support.server import RunningCloud, new_cloud


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(
        tmp_path_factory.mktemp("object"),
        ONESTACK_OBJECT__REPLICATOR_INTERVAL="0",
        ONESTACK_OBJECT__AUDITOR_INTERVAL="0",
        ONESTACK_OBJECT__EXPIRER_INTERVAL="1",
        ONESTACK_OBJECT__CONTAINER_SYNC_INTERVAL="1",
    ).start()
    try:
        yield running
    finally:
        running.stop()


def swift_connection(cloud: RunningCloud, user: str, project: str | None = None) -> Any:
    password = cloud.admin_password if user == "admin" else cloud.demo_password
    return swiftclient.Connection(
        authurl=cloud.auth_url,
        user=user,
        key=password,
        auth_version="3",
        os_options={
            "project_name": project or user,
            "user_domain_id": "default",
            "project_domain_id": "default",
            "region_name": "RegionOne",
        },
        retries=0,
    )


@pytest.fixture(scope="package")
def swift(cloud: RunningCloud) -> Any:
    """swiftclient as admin (project admin)."""
    return swift_connection(cloud, "admin")


@pytest.fixture(scope="package")
def swift_demo(cloud: RunningCloud) -> Any:
    """swiftclient as demo (project demo)."""
    return swift_connection(cloud, "demo")


@pytest.fixture(scope="package")
def admin(cloud: RunningCloud) -> Any:
    return cloud.connect("admin", "admin")


@pytest.fixture(scope="package")
def demo(cloud: RunningCloud) -> Any:
    return cloud.connect("demo", "demo")


@pytest.fixture()
def container(swift: Any) -> Iterator[str]:
    """A fresh container of admin's, emptied and removed afterwards."""
    name = unique("c")
    swift.put_container(name)
    yield name
    _empty_and_delete(swift, name)


def _empty_and_delete(conn: Any, name: str) -> None:
    try:
        _, objects = conn.get_container(name, full_listing=True)
        for obj in objects:
            conn.delete_object(name, obj["name"])
        conn.delete_container(name)
    except swiftclient.ClientException:
        pass


@pytest.fixture()
def cleanup(swift: Any) -> Iterator[Callable[[str], None]]:
    """Register containers (of admin's) to empty and delete after the test."""
    names: list[str] = []
    yield names.append
    for name in reversed(names):
        _empty_and_delete(swift, name)


def ec2_credentials(conn: Any) -> tuple[str, str]:
    response = conn.identity.post(
        f"/users/{conn.current_user_id}/credentials/OS-EC2",
        json={"tenant_id": conn.current_project_id},
    )
    assert response.status_code == 201, response.text
    cred = response.json()["credential"]
    return cred["access"], cred["secret"]


def s3_client(cloud: RunningCloud, access: str, secret: str, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=cloud.url("s3"),
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


@pytest.fixture(scope="package")
def s3(cloud: RunningCloud, admin: Any) -> Any:
    return s3_client(cloud, *ec2_credentials(admin))


@pytest.fixture(scope="package")
def s3_demo(cloud: RunningCloud, demo: Any) -> Any:
    return s3_client(cloud, *ec2_credentials(demo))
