"""Reports (any user) and moderation (the `admins` group): the report queue, actions, the audit log."""

from typing import TYPE_CHECKING

from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import moderation

if TYPE_CHECKING:
    from chalicelib.schemas.moderation import ModerationIn, ModerationOut, ReportedTargetOut, ReportIn, ReportOut
else:
    (
        ModerationIn, ModerationOut, ReportedTargetOut, ReportIn, ReportOut,
    ) = lazy_models(
        "chalicelib.schemas.moderation",
        "ModerationIn", "ModerationOut", "ReportedTargetOut", "ReportIn", "ReportOut",
    )

api = Api(__name__, tag="moderation")
blueprint = api.blueprint


@api.route("POST", "/reports", summary="Report a post, comment, question, answer, review or user (once each)",
           body=ReportIn, response=ReportOut, status=201, errors=(404, "AlreadyReported"))
def report(ctx):
    body = ctx.body
    return moderation.report(ctx.user, body.target_type, body.target_id, body.reason)


@api.route("GET", "/admin/reports", summary="Targets with open reports, most reported first (admins only)",
           response=ReportedTargetOut, paginated=True, group="admins")
def open_reports(ctx):
    return moderation.open_reports(ctx.page)


@api.route("POST", "/admin/moderation",
           summary="Remove or restore content, suspend or unsuspend a user (admins only); closes its reports",
           body=ModerationIn, response=ModerationOut, group="admins", errors=(404,))
def moderate(ctx):
    body = ctx.body
    return moderation.moderate(ctx.user, body.target_type, body.target_id, body.action, body.reason)


@api.route("GET", "/admin/moderation", summary="The moderation audit log, newest first (admins only)",
           response=ModerationOut, paginated=True, group="admins")
def audit_log(ctx):
    return moderation.audit_log(ctx.page)
