"""The moto patch that checks presigned POST forms against their policy, as S3 does."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from chalicelib.local.moto_patches import post_policy_refusal

SECRETS = {"local": "local"}
BUCKET = "jianghu-t-media-123456789012"


def _form(expires_in: int = 900, secret: str = "local") -> dict[str, str]:
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key=secret,
                      endpoint_url="http://127.0.0.1:1", config=Config(signature_version="s3v4"))
    form = s3.generate_presigned_post(Bucket=BUCKET, Key="uploads/u1/a.png", Fields={"Content-Type": "image/png"},
                                      Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 1, 100]],
                                      ExpiresIn=expires_in)
    return form["fields"]


def _refusal(fields, size=10, bucket=BUCKET):
    import time

    return post_policy_refusal(fields, size, bucket, time.time(), SECRETS)


def test_a_form_posted_as_signed_is_stored():
    assert _refusal(_form()) is None
    assert _refusal(_form(), size=100) is None


@pytest.mark.parametrize(("change", "size", "status", "code", "says"), [
    ({}, 101, 400, "EntityTooLarge", "exceeds"),
    ({}, 0, 400, "EntityTooSmall", "smaller"),
    ({"Content-Type": "image/gif"}, 10, 403, "AccessDenied", "Policy Condition failed"),
    ({"key": "uploads/other/a.png"}, 10, 403, "AccessDenied", "$key"),
    ({"x-amz-meta-owner": "me"}, 10, 403, "AccessDenied", "Extra input fields"),
    ({"x-amz-signature": "0" * 64}, 10, 403, "SignatureDoesNotMatch", "signature"),
])
def test_a_form_that_departs_from_its_policy_is_refused(change, size, status, code, says):
    refusal = _refusal({**_form(), **change}, size=size)
    assert (refusal.status, refusal.code) == (status, code)
    assert says in refusal.message
    assert f"<Code>{code}</Code>" in refusal.xml()


def test_an_expired_form_another_bucket_and_another_secret_are_refused():
    assert _refusal(_form(expires_in=-1)).message == "Invalid according to Policy: Policy expired."
    assert _refusal(_form(), bucket="someone-elses-bucket").code == "AccessDenied"
    assert _refusal(_form(secret="guessed")).code == "SignatureDoesNotMatch"
    assert post_policy_refusal(_form(), 10, BUCKET, 0, {}).code == "InvalidAccessKeyId"


def test_moto_refuses_an_oversize_post_and_stores_a_good_one(monkeypatch):
    # Given moto's S3 in this process, patched, with the form signed by this process's credentials
    import requests
    from moto import mock_aws

    from chalicelib.local.moto_patches import enforce_presigned_post_policy

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    enforce_presigned_post_policy()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
        s3.create_bucket(Bucket=BUCKET)
        form = s3.generate_presigned_post(Bucket=BUCKET, Key="uploads/u1/a.png",
                                          Fields={"Content-Type": "image/png"},
                                          Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 1, 5]],
                                          ExpiresIn=60)
        # When a browser posts six bytes, then five
        refused = requests.post(form["url"], data=form["fields"], files={"file": ("a.png", b"123456")})
        listed_after_refusal = s3.list_objects_v2(Bucket=BUCKET).get("KeyCount")
        stored = requests.post(form["url"], data=form["fields"], files={"file": ("a.png", b"12345")})
        # Then the first is S3's EntityTooLarge and stores nothing; the second is stored
        assert refused.status_code == 400 and "EntityTooLarge" in refused.text
        assert listed_after_refusal == 0
        assert stored.status_code == 204
        assert s3.get_object(Bucket=BUCKET, Key="uploads/u1/a.png")["Body"].read() == b"12345"
