"""Activity sharing: the switches, what was shared, a follower's view of it, wish-list visibility."""

from typing import TYPE_CHECKING

from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import activity, activity_reads

if TYPE_CHECKING:
    from chalicelib.schemas.activity import (
        ActivityItemOut,
        ActivityOut,
        EditSharing,
        SharingOut,
        WishlistSettings,
        WishlistSettingsOut,
    )
else:
    (
        ActivityItemOut, ActivityOut, EditSharing, SharingOut, WishlistSettings, WishlistSettingsOut,
    ) = lazy_models(
        "chalicelib.schemas.activity",
        "ActivityItemOut", "ActivityOut", "EditSharing", "SharingOut", "WishlistSettings", "WishlistSettingsOut",
    )

api = Api(__name__, tag="activity")
blueprint = api.blueprint


@api.route("GET", "/me/sharing", summary="Which kinds of the caller's activity their followers see (all off "
           "until turned on)", response=SharingOut)
def get_sharing(ctx):
    return SharingOut(**activity.get_sharing(ctx.user.user_id))


@api.route("PUT", "/me/sharing", summary="Turn kinds of activity sharing on or off; turning one off withdraws "
           "everything it shared from followers' feeds", body=EditSharing, response=SharingOut)
def put_sharing(ctx):
    return SharingOut(**activity.set_sharing(ctx.user.user_id, ctx.body.model_dump(exclude_unset=True)))


@api.route("GET", "/me/sharing/preview", summary="The caller's shared activity as a follower's feed shows it",
           response=ActivityItemOut, paginated=True)
def preview_sharing(ctx):
    return activity_reads.preview(ctx.user.user_id, ctx.page)


@api.route("GET", "/me/activity", summary="What the caller has shared (not withdrawn), newest first",
           response=ActivityOut, paginated=True)
def list_my_activity(ctx):
    return activity_reads.list_shared(ctx.user.user_id, ctx.page)


@api.route("DELETE", "/me/activity/{activity_id}", summary="Withdraw one of the caller's activities from every "
           "follower's feed (idempotent; 404 for an unknown one or someone else's)", status=204, errors=(404,))
def withdraw_activity(ctx, activity_id):
    activity.withdraw(ctx.user.user_id, activity_id)


@api.route("GET", "/me/wishlist/settings", summary="Who may see the caller's wish list", response=WishlistSettingsOut)
def get_wishlist_settings(ctx):
    return WishlistSettingsOut(visibility=activity.get_wishlist_visibility(ctx.user.user_id))


@api.route("PUT", "/me/wishlist/settings", summary="Who may see the caller's wish list and its activity: public, "
           "followers or private", body=WishlistSettings, response=WishlistSettingsOut)
def put_wishlist_settings(ctx):
    return WishlistSettingsOut(visibility=activity.set_wishlist_visibility(ctx.user.user_id, ctx.body.visibility))
