"""Throw-away databases on the local PostgreSQL and MariaDB servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES = ("127.0.0.1", 5432)
MARIADB = ("127.0.0.1", 3306)
RABBITMQ = ("127.0.0.1", 5672)


def reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def postgres_database() -> Iterator[str]:
    if not reachable(POSTGRES):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    import psycopg

    name = f"onestack_test_{uuid.uuid4().hex[:10]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def mariadb_database() -> Iterator[str]:
    if not reachable(MARIADB):
        pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")
    import pymysql

    name = f"onestack_test_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        conn.close()
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    finally:
        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of the caller's own (deleted afterwards): its amqp:// URL."""
    if not reachable(RABBITMQ):
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    if shutil.which("rabbitmqctl") is None or os.geteuid() != 0:
        pytest.skip("making a RabbitMQ vhost of the test's own needs rabbitmqctl as root")
    vhost = f"onestack-test-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)
