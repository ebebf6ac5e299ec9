"""POST /uploads: a presigned S3 POST form into the stage's media bucket, 60 an hour per user."""

from __future__ import annotations

import functools
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.config import get_settings
from chalicelib.domain import uploads as rules
from chalicelib.domain.ids import iso, new_id
from chalicelib.errors import ServiceUnavailable, TooManyRequests
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.uploads import UploadOut
else:
    UploadOut, = lazy_models("chalicelib.schemas.uploads", "UploadOut")


@functools.lru_cache(maxsize=4)
def _s3(region: str, endpoint_url: str | None):
    import boto3
    from botocore.config import Config

    # SigV4 forms (S3 refuses SigV2 in newer regions); the endpoint is moto's locally
    return boto3.client("s3", region_name=region, endpoint_url=endpoint_url,
                        config=Config(signature_version="s3v4"))


def s3_client():
    return _s3(get_settings().region, os.environ.get("AWS_ENDPOINT_URL") or None)


def consume_upload(user_id: str, now: float | None = None) -> None:
    """Count one upload in the caller's current hour; 429 with Retry-After once over the limit."""
    from chalicelib.services.rate_limits import OverLimit, count_in_window

    try:
        count_in_window(f"uploads#{user_id}", 3600, rules.UPLOADS_PER_HOUR, time.time() if now is None else now)
    except OverLimit as over:
        raise TooManyRequests(f"At most {rules.UPLOADS_PER_HOUR} uploads an hour; try again in {over.retry_after} s",
                              headers={"Retry-After": str(over.retry_after)}) from None


def create_upload(user_id: str, content_type: str, size_bytes: int,
                  expires_in: int = rules.FORM_LIFETIME_SECONDS) -> UploadOut:
    settings = get_settings()
    if not settings.media_bucket or not settings.media_base_url:
        raise ServiceUnavailable("Uploads are not configured on this stage (MEDIA_BUCKET, MEDIA_BASE_URL)")
    consume_upload(user_id)
    upload_id = new_id()
    key = rules.object_key(user_id, upload_id, content_type)
    form = s3_client().generate_presigned_post(
        Bucket=settings.media_bucket, Key=key, Fields={"Content-Type": content_type},
        Conditions=rules.form_conditions(content_type, size_bytes), ExpiresIn=expires_in,
    )
    expires_at = datetime.fromtimestamp(int(time.time()) + expires_in, tz=UTC)
    return UploadOut(upload_id=upload_id, url=form["url"], fields=form["fields"],
                     image_url=settings.media_base_url + key, expires_at=iso(expires_at))
