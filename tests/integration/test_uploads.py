"""POST /uploads: a presigned S3 POST form into the media bucket, 60 an hour per user, clear 400s."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.domain.uploads import UPLOADS_PER_HOUR
from tests.support.api import call
from tests.support.aws import MEDIA_BASE_URL

JPEG = {"purpose": "post", "content_type": "image/jpeg", "size_bytes": 2048}


def test_an_upload_is_a_presigned_post_into_the_media_bucket(client, users, aws):
    # Given a shopper
    alice = users()
    # When she asks for an upload form for a 2 KB JPEG
    response = call(client, "POST", "/uploads", alice, JPEG)
    # Then she gets a form whose policy pins the bucket, key, type and size, for 15 minutes
    assert response.status_code == 201, response.data
    upload = response.data
    assert set(upload) == {"upload_id", "url", "fields", "image_url", "expires_at"}
    fields = upload["fields"]
    key = fields["key"]
    assert key == f"uploads/{alice.user_id}/{upload['upload_id']}.jpg"
    assert upload["image_url"] == MEDIA_BASE_URL + key
    assert fields["Content-Type"] == "image/jpeg"
    assert {"policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"} <= set(fields)
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": aws.outputs["MediaBucketName"]} in conditions
    assert {"key": key} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 2048] in conditions
    assert policy["expiration"] == upload["expires_at"].replace(".000Z", "Z")
    # And a post takes the upload's image_url
    created = call(client, "POST", "/posts", alice, {"text": "new bag", "image_urls": [upload["image_url"]]})
    assert created.status_code == 201, created.data
    assert created.data["image_urls"] == [upload["image_url"]]


def test_a_post_refuses_a_media_url_that_is_not_an_upload_key(client, users):
    alice = users()
    for url in (MEDIA_BASE_URL.replace("https", "http") + "uploads/x/y.jpg", "http://127.0.0.1:8000/media/uploads/a.jpg"):
        refused = call(client, "POST", "/posts", alice, {"text": "bag", "image_urls": [url]})
        assert refused.status_code == 400, url


@pytest.mark.parametrize(("body", "field"), [
    ({**JPEG, "purpose": "banner"}, "purpose"),
    ({**JPEG, "content_type": "image/gif"}, "content_type"),
    ({**JPEG, "size_bytes": 0}, "size_bytes"),
    ({**JPEG, "size_bytes": 10 * 1024 * 1024 + 1}, "size_bytes"),
    ({**JPEG, "size_bytes": "2048"}, "size_bytes"),
    ({"purpose": "post", "content_type": "image/png"}, "size_bytes"),
    ({**JPEG, "key": "uploads/someone-else/x.jpg"}, "key"),
])
def test_bad_input_is_a_400_naming_the_field(client, users, body, field):
    refused = call(client, "POST", "/uploads", users(), body)
    assert refused.status_code == 400
    assert field in refused.data["Message"]


def test_the_largest_image_is_allowed(client, users):
    response = call(client, "POST", "/uploads", users(), {**JPEG, "size_bytes": 10 * 1024 * 1024})
    assert response.status_code == 201


def test_sixty_uploads_an_hour_then_429_with_retry_after(client, users, monkeypatch):
    # Given a shopper with no per-minute write limit in the way
    monkeypatch.setenv("WRITE_LIMIT_PER_MINUTE", "0")
    from chalicelib.config import reset_settings

    reset_settings()
    alice, bob = users(), users()
    try:
        # When she asks for 61 forms
        statuses = [call(client, "POST", "/uploads", alice, JPEG).status_code for _ in range(UPLOADS_PER_HOUR + 1)]
        # Then the 61st is refused with a hint of when to come back; others still upload
        assert statuses == [201] * UPLOADS_PER_HOUR + [429]
        refused = call(client, "POST", "/uploads", alice, JPEG)
        assert refused.data["Code"] == "TooManyRequestsError"
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        assert call(client, "POST", "/uploads", bob, JPEG).status_code == 201
    finally:
        monkeypatch.undo()
        reset_settings()


def test_a_new_hour_starts_a_new_budget(tables):
    from chalicelib.errors import TooManyRequests
    from chalicelib.services.uploads import consume_upload

    hour = 1_800_000_000 - 1_800_000_000 % 3600
    for _ in range(UPLOADS_PER_HOUR):
        consume_upload("u1", now=hour + 5)
    with pytest.raises(TooManyRequests):
        consume_upload("u1", now=hour + 3599)
    consume_upload("u1", now=hour + 3600)
