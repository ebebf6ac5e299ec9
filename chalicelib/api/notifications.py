"""The caller's notifications."""

from chalicelib.http import Api
from chalicelib.schemas.profiles import NotificationOut
from chalicelib.services.notifications import list_notifications

api = Api(__name__, tag="notifications")
blueprint = api.blueprint


@api.route("GET", "/me/notifications", summary="The caller's notifications, newest first",
           response=NotificationOut, paginated=True)
def get_notifications(ctx):
    return list_notifications(ctx.user.user_id, ctx.page)
