"""Uploads on the local stack: real bytes through the presigned form into moto's S3, served at /media/."""

from __future__ import annotations

import requests
from botocore.config import Config

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _form(stack, user, size_bytes: int = len(PNG), content_type: str = "image/png") -> dict:
    response = stack.call("POST", "/uploads", user,
                          {"purpose": "post", "content_type": content_type, "size_bytes": size_bytes})
    assert response.status_code == 201, response.text
    return response.json()


def _post_file(upload: dict, payload: bytes, fields: dict | None = None) -> requests.Response:
    return requests.post(upload["url"], data=fields or upload["fields"],
                         files={"file": ("photo.png", payload, "image/png")}, timeout=30)


def test_an_uploaded_image_is_served_at_its_image_url_and_a_post_takes_it(stack):
    # Given a shopper with an upload form for her photo
    alice = stack.sign_up("uploader")
    upload = _form(stack, alice)
    assert upload["image_url"].startswith(stack.state["media_base_url"])
    assert stack.state["media_base_url"] == f"{stack.api_url}/media/"
    # When her browser posts the bytes to the form
    stored = _post_file(upload, PNG)
    # Then S3 (moto) takes them, and the image URL serves the very bytes with their type
    assert stored.status_code in (201, 204), stored.text
    served = requests.get(upload["image_url"], timeout=30)
    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["Content-Type"] == "image/png"
    # And a post carries the image
    post = stack.call("POST", "/posts", alice, {"text": "my new bag", "image_urls": [upload["image_url"]]})
    assert post.status_code == 201, post.text
    assert post.json()["image_urls"] == [upload["image_url"]]
    # And a key nobody uploaded is a 404
    assert requests.get(stack.state["media_base_url"] + "uploads/nobody/x.png", timeout=30).status_code == 404


def test_a_wrong_type_an_oversize_body_and_a_changed_key_are_refused_as_s3_does(stack):
    alice = stack.sign_up("uploader")
    upload = _form(stack, alice, size_bytes=100)
    # A body over the declared size
    too_large = _post_file(upload, b"x" * 101)
    assert too_large.status_code == 400 and "<Code>EntityTooLarge</Code>" in too_large.text
    # A Content-Type the policy does not name
    wrong_type = _post_file(upload, b"x" * 10, {**upload["fields"], "Content-Type": "text/html"})
    assert wrong_type.status_code == 403 and "<Code>AccessDenied</Code>" in wrong_type.text
    # Another key than the signed one (someone else's image)
    other_key = _post_file(upload, b"x" * 10, {**upload["fields"], "key": "uploads/victim/x.png"})
    assert other_key.status_code == 403 and "Policy Condition failed" in other_key.text
    # A forged signature
    forged = _post_file(upload, b"x" * 10, {**upload["fields"], "x-amz-signature": "0" * 64})
    assert forged.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in forged.text
    # And nothing was stored
    assert requests.get(upload["image_url"], timeout=30).status_code == 404


def test_an_expired_form_is_refused(stack):
    # Given a form signed as the app signs it (same credentials, same conditions), whose time ran out
    s3 = stack.session.client("s3", endpoint_url=stack.state["aws_endpoint_url"],
                              config=Config(signature_version="s3v4"))
    form = s3.generate_presigned_post(Bucket=stack.state["media_bucket"], Key="uploads/late/x.png",
                                      Fields={"Content-Type": "image/png"},
                                      Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 1, 100]],
                                      ExpiresIn=-60)
    # When the browser posts to it
    refused = _post_file({"url": form["url"], "fields": form["fields"]}, b"x" * 10)
    # Then S3 refuses it, and nothing is stored
    assert refused.status_code == 403
    assert "Policy expired" in refused.text
    assert requests.get(stack.state["media_base_url"] + "uploads/late/x.png", timeout=30).status_code == 404
