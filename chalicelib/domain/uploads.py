"""The rules of image uploads: which files, how big, where they land, how long a form lives."""

from __future__ import annotations

from chalicelib.domain.urls import MEDIA_UPLOAD_PREFIX

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOADS_PER_HOUR = 60
FORM_LIFETIME_SECONDS = 15 * 60
#: Every browser upload lands under this prefix (the Lambda may write nowhere else in the bucket).
UPLOAD_PREFIX = MEDIA_UPLOAD_PREFIX
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def object_key(user_id: str, upload_id: str, content_type: str) -> str:
    """`uploads/<user>/<upload>.<ext>`: the uploader is in the key, so an image's owner is readable
    from its URL without a lookup."""
    return f"{UPLOAD_PREFIX}{user_id}/{upload_id}.{EXTENSIONS[content_type]}"


def form_conditions(content_type: str, size_bytes: int) -> list[object]:
    """The presigned POST policy's conditions besides bucket and key: the exact type, and at most
    the declared size (S3 answers EntityTooLarge / EntityTooSmall otherwise)."""
    return [{"Content-Type": content_type}, ["content-length-range", 1, size_bytes]]

