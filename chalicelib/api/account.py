"""The caller's data: export it, or erase the account (SPEC: Activity sharing and privacy)."""

from typing import TYPE_CHECKING

from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import erasure, exports

if TYPE_CHECKING:
    from chalicelib.schemas.account import ErasureOut, ExportOut, ExportStatusOut
else:
    (
        ErasureOut, ExportOut, ExportStatusOut,
    ) = lazy_models(
        "chalicelib.schemas.account",
        "ErasureOut", "ExportOut", "ExportStatusOut",
    )

api = Api(__name__, tag="account")
blueprint = api.blueprint


@api.route("POST", "/me/export", summary="Export everything stored about the caller (a job; the same one "
                                         "while it runs)", response=ExportOut, status=202)
def request_export(ctx):
    return exports.request_export(ctx.user)


@api.route("GET", "/me/export/{export_id}", summary="An export's status and, once done, its download URL "
                                                   "(expires within the hour)", response=ExportStatusOut)
def get_export(ctx, export_id):
    return exports.export_status(ctx.user, export_id)


@api.route("DELETE", "/me", summary="Erase the caller's account (a job; the same one when asked again)",
           response=ErasureOut, status=202, after_erasure=True)
def delete_me(ctx):
    job = erasure.request_erasure(ctx.user)
    return ErasureOut(status="done" if job.done else ("running" if int(job.steps or 0) else "pending"))
