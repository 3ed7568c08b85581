"""Metadata documents and Neutron's pagination links, without a server."""

from __future__ import annotations

import json

from onestack.network.api.deps import page_links as links
from onestack.network.drivers.linux.metadata import render
from onestack.network.interface import InstanceMetadata
from onestack.network.listing import Page

DATA = InstanceMetadata(
    uuid="11111111-2222-4333-8444-555555555555", name="vm", hostname="vm", project_id="p",
    public_keys={"mykey": "ssh-ed25519 AAAA test"}, user_data=b"#!/bin/sh\n",
)  # fmt: skip


def test_openstack_meta_data() -> None:
    status, ctype, body = render("/openstack/latest/meta_data.json", DATA, "10.0.0.3", None)
    assert status == 200 and ctype == "application/json"
    data = json.loads(body)
    assert data["uuid"] == DATA.uuid and data["public_keys"] == {"mykey": "ssh-ed25519 AAAA test"}
    assert data["keys"][0] == {"name": "mykey", "type": "ssh", "data": "ssh-ed25519 AAAA test"}
    assert render("/openstack/2012-08-10/user_data", DATA, "", None)[2] == b"#!/bin/sh\n"
    assert render("/openstack/1999-01-01/meta_data.json", DATA, "", None)[0] == 404


def test_ec2_tree() -> None:
    assert render("/latest/meta-data/local-ipv4", DATA, "10.0.0.3", None)[2] == b"10.0.0.3"
    assert render("/latest/meta-data/public-ipv4", DATA, "10.0.0.3", "172.24.4.9")[2] == (
        b"172.24.4.9"
    )
    assert render("/latest/meta-data/public-keys/", DATA, "", None)[2] == b"0=mykey"
    key = render("/2009-04-04/meta-data/public-keys/0/openssh-key", DATA, "", None)
    assert key[2] == b"ssh-ed25519 AAAA test"
    listing = render("/latest/meta-data/", DATA, "", None)[2].decode().splitlines()
    assert "instance-id" in listing and "placement/" in listing
    assert render("/latest/meta-data/nothing", DATA, "", None)[0] == 404
    assert render("/latest/user-data", DATA, "", None)[2] == b"#!/bin/sh\n"


def test_links_next_and_previous() -> None:
    url = "http://h/v2.0/networks"
    full = Page(rows=[], limit=2, marker=None, reverse=False)
    assert links(url, [("limit", "2")], full, ["a", "b"]) == [
        {"rel": "next", "href": f"{url}?limit=2&marker=b"}
    ]
    middle = Page(rows=[], limit=2, marker="x", reverse=False)
    rels = {link["rel"]: link["href"] for link in links(url, [("limit", "2")], middle, ["c", "d"])}
    assert rels["previous"] == f"{url}?limit=2&marker=c&page_reverse=True"
    short = Page(rows=[], limit=5, marker=None, reverse=False)
    assert links(url, [], short, ["a"]) == []
    assert links(url, [], Page(rows=[], limit=None, marker=None, reverse=False), ["a"]) == []
