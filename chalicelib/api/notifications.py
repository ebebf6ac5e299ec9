"""The caller's notifications and their read state."""

from typing import TYPE_CHECKING

from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import notifications

if TYPE_CHECKING:
    from chalicelib.schemas.notifications import MarkRead, NotificationOut, UnreadCount
else:
    (
        MarkRead, NotificationOut, UnreadCount,
    ) = lazy_models(
        "chalicelib.schemas.notifications",
        "MarkRead", "NotificationOut", "UnreadCount",
    )

api = Api(__name__, tag="notifications")
blueprint = api.blueprint


@api.route("GET", "/me/notifications", summary="The caller's notifications, newest first",
           response=NotificationOut, paginated=True,
           query={"unread": "true: only notifications not read yet"})
def get_notifications(ctx):
    return notifications.list_notifications(ctx.user.user_id, ctx.page, unread=ctx.query.get("unread"))


@api.route("GET", "/me/notifications/unread-count", summary="How many notifications are unread (one read)",
           response=UnreadCount)
def get_unread_count(ctx):
    return notifications.unread_count(ctx.user.user_id)


@api.route("POST", "/me/notifications/read", status=204, body=MarkRead,
           summary="Mark notifications read: those named (ids not naming one of the caller's are ignored), "
                   "or without ids all of them")
def mark_notifications_read(ctx):
    if ctx.body.notification_ids is None:
        notifications.mark_all_read(ctx.user.user_id)
    else:
        notifications.mark_read(ctx.user.user_id, ctx.body.notification_ids)
