"""Responses of the account's export and erasure (POST /me/export, GET /me/export/{export_id}, DELETE /me)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.schemas.base import ResponseModel

JobStatus = Literal["pending", "running", "done", "failed"]


class ExportOut(ResponseModel):
    export_id: str
    status: JobStatus


class ExportStatusOut(ResponseModel):
    export_id: str
    status: JobStatus
    url: str | None = Field(default=None, description="Presigned GET of the JSON file, once `done`")
    url_expires_in: int | None = Field(default=None, description="Seconds the `url` stays valid (at most 3600)")


class ErasureOut(ResponseModel):
    status: JobStatus = Field(description="The erasure job's progress; `/me` and writes answer 401 AccountDeleted "
                                          "from the request on")
