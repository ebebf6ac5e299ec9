"""Requests and responses of POST /uploads."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.domain.uploads import MAX_UPLOAD_BYTES
from chalicelib.schemas.base import RequestModel, ResponseModel


class CreateUpload(RequestModel):
    purpose: Literal["post", "avatar", "product", "review"]
    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    size_bytes: Annotated[int, Field(ge=1, le=MAX_UPLOAD_BYTES)]


class UploadOut(ResponseModel):
    upload_id: str
    url: str = Field(description="Where the browser POSTs the form (multipart/form-data)")
    fields: dict[str, str] = Field(description="Form fields to send before the `file` field, unchanged")
    image_url: str = Field(description="Where the image is served once uploaded; posts accept it")
    expires_at: str
