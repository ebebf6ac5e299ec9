"""Profiles and the follow graph."""

from typing import TYPE_CHECKING

from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import graph, profiles

if TYPE_CHECKING:
    from chalicelib.schemas.profiles import BlockedUserOut, BlockState, FollowState, ProfileOut, UpdateMe, UserRef
else:
    (
        BlockedUserOut, BlockState, FollowState, ProfileOut, UpdateMe, UserRef,
    ) = lazy_models(
        "chalicelib.schemas.profiles",
        "BlockedUserOut", "BlockState", "FollowState", "ProfileOut", "UpdateMe", "UserRef",
    )

api = Api(__name__, tag="profiles")
blueprint = api.blueprint


@api.route("GET", "/me", summary="The caller's profile (created on first use)", response=ProfileOut,
           errors=("AccountDeleted",))
def get_me(ctx):
    return profiles.get_me(ctx.user)


@api.route("PUT", "/me", summary="Update the caller's profile", body=UpdateMe, response=ProfileOut)
def put_me(ctx):
    body = ctx.body
    return profiles.update_me(ctx.user, body.display_name, body.bio, body.labels)


@api.route("GET", "/users/{user_id}", summary="A user's public profile", response=ProfileOut)
def get_user(ctx, user_id):
    return profiles.get_public_profile(user_id, viewer_id=ctx.user.user_id)


@api.route("PUT", "/users/{user_id}/follow", summary="Follow a user (idempotent)", response=FollowState,
           errors=(400, 403, 409))
def follow_user(ctx, user_id):
    graph.follow(ctx.user, user_id)
    return FollowState(user_id=user_id, following=True)


@api.route("DELETE", "/users/{user_id}/follow", summary="Unfollow a user (idempotent)", response=FollowState,
           errors=(400,))
def unfollow_user(ctx, user_id):
    graph.unfollow(ctx.user, user_id)
    return FollowState(user_id=user_id, following=False)


@api.route("GET", "/users/{user_id}/followers", summary="Who follows a user, newest first", response=UserRef,
           paginated=True)
def list_followers(ctx, user_id):
    return graph.followers(user_id, ctx.page)


@api.route("GET", "/users/{user_id}/following", summary="Whom a user follows", response=UserRef, paginated=True)
def list_following(ctx, user_id):
    return graph.following(user_id, ctx.page)


@api.route("PUT", "/users/{user_id}/block", summary="Block a user: ends follows both ways", response=BlockState,
           errors=(400,))
def block_user(ctx, user_id):
    graph.block(ctx.user, user_id)
    return BlockState(user_id=user_id, blocked=True)


@api.route("DELETE", "/users/{user_id}/block", summary="Unblock a user", response=BlockState, errors=(400,))
def unblock_user(ctx, user_id):
    graph.unblock(ctx.user, user_id)
    return BlockState(user_id=user_id, blocked=False)


@api.route("GET", "/me/blocks", summary="Whom the caller blocks", response=BlockedUserOut, paginated=True)
def list_blocks(ctx):
    return graph.blocked(ctx.user.user_id, ctx.page)
