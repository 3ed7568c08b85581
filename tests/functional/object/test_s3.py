"""The S3 API through boto3, signed with EC2 credentials from the identity service."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest
import requests

from tests.functional.object.conftest import s3_client
from tests.support.errors import s3_client_error, s3_error_body
from tests.support.names import unique
from tests.support.server import RunningCloud


@pytest.fixture()
def bucket(s3: Any) -> Iterator[str]:
    name = unique("bkt")
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=obj["Key"])
    try:
        s3.delete_bucket(Bucket=name)
    except botocore.exceptions.ClientError:
        pass


def test_bucket_lifecycle(s3: Any) -> None:
    name = unique("life")
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.create_bucket(Bucket=name)
    s3_client_error(info, "BucketAlreadyOwnedByYou", 409, "you already own it")
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.delete_bucket(Bucket=name)
    s3_client_error(info, "BucketNotEmpty", 409, "conflict")
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.head_bucket(Bucket=name)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_invalid_bucket_name(s3: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.create_bucket(Bucket="Bad_Name")
    s3_client_error(info, "InvalidBucketName", 400, "not valid")


def test_object_roundtrip_range_head_copy(s3: Any, bucket: str) -> None:
    data = os.urandom(50_000)
    put = s3.put_object(
        Bucket=bucket, Key="dir/o.bin", Body=data, Metadata={"k": "v"}, ContentType="x/y"
    )
    got = s3.get_object(Bucket=bucket, Key="dir/o.bin")
    assert got["Body"].read() == data
    assert got["ETag"] == put["ETag"]
    assert got["Metadata"] == {"k": "v"}
    assert got["ContentType"] == "x/y"
    part = s3.get_object(Bucket=bucket, Key="dir/o.bin", Range="bytes=100-199")
    assert part["Body"].read() == data[100:200]
    assert part["ContentRange"] == f"bytes 100-199/{len(data)}"
    assert s3.head_object(Bucket=bucket, Key="dir/o.bin")["ContentLength"] == len(data)
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "dir/o.bin"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == data
    s3.delete_object(Bucket=bucket, Key="dir/o.bin")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.get_object(Bucket=bucket, Key="dir/o.bin")
    s3_client_error(info, "NoSuchKey", 404, "dir/o.bin could not be found")


def test_same_objects_through_swift(s3: Any, swift: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="shared", Body=b"via s3")
    assert swift.get_object(bucket, "shared")[1] == b"via s3"
    swift.put_object(bucket, "from-swift", b"via swift")
    assert s3.get_object(Bucket=bucket, Key="from-swift")["Body"].read() == b"via swift"


def test_list_objects_v1_v2_with_delimiter_and_pages(s3: Any, bucket: str) -> None:
    keys = ["a/1", "a/2", "b/1", "c", "d"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    v2 = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in v2["CommonPrefixes"]] == ["a/", "b/"]
    assert [c["Key"] for c in v2["Contents"]] == ["c", "d"]
    v1 = s3.list_objects(Bucket=bucket, Prefix="a/")
    assert [c["Key"] for c in v1["Contents"]] == ["a/1", "a/2"]
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    )
    seen = [c["Key"] for page in pages for c in page.get("Contents", [])]
    assert seen == keys
    first = s3.list_objects(Bucket=bucket, MaxKeys=2)
    assert first["IsTruncated"] is True
    rest = s3.list_objects(Bucket=bucket, Marker=first["Contents"][-1]["Key"])
    assert [c["Key"] for c in rest["Contents"]] == keys[2:]


def test_multipart_upload(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="x/mp")
    upload_id = upload["UploadId"]
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1234)]
    etags = [
        s3.upload_part(Bucket=bucket, Key="mp", PartNumber=i + 1, UploadId=upload_id, Body=data)[
            "ETag"
        ]
        for i, data in enumerate(parts)
    ]
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, len(parts[0])), (2, 1234)]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload_id]
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
    )
    assert done["ETag"].endswith('-2"')
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == b"".join(parts)
    assert got["ContentType"] == "x/mp"
    assert got["ETag"] == done["ETag"]
    listed_etag = s3.list_objects_v2(Bucket=bucket)["Contents"][0]["ETag"]
    assert listed_etag == done["ETag"]


def test_multipart_abort_and_errors(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    small = s3.upload_part(Bucket=bucket, Key="ab", PartNumber=1, UploadId=upload_id, Body=b"x")
    last = s3.upload_part(Bucket=bucket, Key="ab", PartNumber=2, UploadId=upload_id, Body=b"y")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="ab",
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 1, "ETag": small["ETag"]},
                    {"PartNumber": 2, "ETag": last["ETag"]},
                ]
            },
        )
    s3_client_error(info, "EntityTooSmall", 400)
    s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=upload_id)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.list_parts(Bucket=bucket, Key="ab", UploadId=upload_id)
    s3_client_error(info, "NoSuchUpload", 404)


def test_presigned_urls_v4_and_default(cloud: RunningCloud, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="p", Body=b"presigned")
    creds = s3._request_signer._credentials
    v4 = s3_client(cloud, creds.access_key, creds.secret_key, signature_version="s3v4")
    for client in (s3, v4):
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=60
        )
        response = requests.get(url)
        assert response.status_code == 200 and response.content == b"presigned"
    put_url = v4.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up"}, ExpiresIn=60
    )
    assert requests.put(put_url, data=b"up!").status_code == 200
    assert s3.get_object(Bucket=bucket, Key="up")["Body"].read() == b"up!"
    expired = v4.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=1
    )
    time.sleep(2)
    response = requests.get(expired)
    s3_error_body(response, "AccessDenied", 403, "expired", resource=f"/{bucket}/p")


def test_bad_signature_and_unknown_key(cloud: RunningCloud, s3: Any) -> None:
    creds = s3._request_signer._credentials
    wrong = s3_client(cloud, creds.access_key, "wrong-secret")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        wrong.list_buckets()
    s3_client_error(info, "SignatureDoesNotMatch", 403)
    unknown = s3_client(cloud, "no-such-access-key", "x")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        unknown.list_buckets()
    s3_client_error(info, "InvalidAccessKeyId", 403)
    anonymous = requests.get(cloud.url("s3") + "/")
    s3_error_body(anonymous, "AccessDenied", 403, "Anonymous access", resource="/")


def test_projects_do_not_see_each_others_buckets(s3: Any, s3_demo: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="private", Body=b"x")
    assert bucket not in [b["Name"] for b in s3_demo.list_buckets()["Buckets"]]
    # Buckets are named per project: demo's account has no bucket of that name.
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3_demo.get_object(Bucket=bucket, Key="private")
    s3_client_error(info, "NoSuchBucket", 404, bucket)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3_demo.list_objects_v2(Bucket=bucket)
    s3_client_error(info, "NoSuchBucket", 404, bucket)


def test_delete_objects_and_unsupported_subresource(s3: Any, bucket: str) -> None:
    for key in ("x1", "x2"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "x1"}, {"Key": "x2"}, {"Key": "x3"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["x1", "x2", "x3"]
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.get_bucket_policy(Bucket=bucket)
    s3_client_error(info, "NotImplemented", 501, "?policy")


def test_content_md5_mismatch_is_bad_digest(s3: Any, bucket: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"abc", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
    s3_client_error(info, "BadDigest", 400)


def test_s3_uses_the_users_real_roles(cloud: RunningCloud, admin: Any) -> None:
    """EC2 credentials act with the user's roles now: a user who lost them is refused."""
    name = unique("s3role")
    user = admin.identity.create_user(name=name, password="pw-s3-role-1", domain_id="default")
    project = admin.identity.create_project(name=name, domain_id="default")
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, member)
    try:
        created = admin.identity.create_credential(
            user_id=user.id,
            project_id=project.id,
            type="ec2",
            blob=json.dumps({"access": name, "secret": "s3-role-secret"}),
        )
        client = s3_client(cloud, name, "s3-role-secret")
        client.create_bucket(Bucket=name)
        client.delete_bucket(Bucket=name)
        admin.identity.unassign_project_role_from_user(project, user, member)
        with pytest.raises(botocore.exceptions.ClientError) as info:
            client.list_buckets()
        s3_client_error(info, "AccessDenied", 403)
        admin.identity.delete_credential(created)
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)


def test_missing_bucket_is_no_such_bucket_with_its_resource(cloud: RunningCloud, s3: Any) -> None:
    name = unique("nobucket")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.get_object(Bucket=name, Key="k")
    error = s3_client_error(info, "NoSuchBucket", 404, f"The container {name} could not be found")
    assert error["Resource"] == f"/{name}/k"
