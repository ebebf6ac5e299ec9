"""Circles: interest groups around a shopping style."""

from typing import TYPE_CHECKING

from chalicelib.errors import BadRequest
from chalicelib.http import Api, Query
from chalicelib.schemas import lazy_models
from chalicelib.services import groups, posts

if TYPE_CHECKING:
    from chalicelib.schemas.groups import CreateGroup, GroupOut, MembershipOut
    from chalicelib.schemas.posts import PostOut
else:
    (
        CreateGroup, GroupOut, MembershipOut,
    ) = lazy_models(
        "chalicelib.schemas.groups",
        "CreateGroup", "GroupOut", "MembershipOut",
    )
    PostOut, = lazy_models("chalicelib.schemas.posts", "PostOut")

api = Api(__name__, tag="groups")
blueprint = api.blueprint


@api.route("POST", "/groups", summary="Create a circle (the creator is its owner and first member)",
           body=CreateGroup, response=GroupOut, status=201)
def create_group(ctx):
    body = ctx.body
    return groups.create_group(ctx.user, body.name, body.description, body.label)


@api.route("GET", "/groups", summary="Circles of a label, newest first; without a label, every circle, most "
           "members first", response=GroupOut, paginated=True,
           query={"label": Query("A label id from GET /labels")})
def list_groups(ctx):
    from chalicelib.domain.labels import LABEL_IDS

    label = ctx.query.get("label")
    if label is None:
        from chalicelib.services import circle_directory

        return circle_directory.list_directory(ctx.user, ctx.page)
    if not label:
        raise BadRequest("label: must not be empty")
    if label not in LABEL_IDS:
        raise BadRequest(f"label: unknown label {label!r}; see GET /labels")
    return groups.list_by_label(ctx.user, label, ctx.page)


@api.route("GET", "/me/groups", summary="The circles the caller belongs to", response=GroupOut, paginated=True)
def list_my_groups(ctx):
    return groups.list_mine(ctx.user, ctx.page)


@api.route("GET", "/groups/{group_id}", summary="A circle, with its member count", response=GroupOut)
def get_group(ctx, group_id):
    return groups.get_group(ctx.user, group_id)


@api.route("PUT", "/groups/{group_id}/members/me", summary="Join a circle (idempotent)", response=MembershipOut)
def join_group(ctx, group_id):
    return groups.join(ctx.user, group_id)


@api.route("DELETE", "/groups/{group_id}/members/me", summary="Leave a circle (idempotent; not its owner)",
           response=MembershipOut, errors=("OwnerCannotLeave",))
def leave_group(ctx, group_id):
    return groups.leave(ctx.user, group_id)


@api.route("GET", "/groups/{group_id}/posts", summary="A circle's posts, newest first", response=PostOut,
           paginated=True)
def list_group_posts(ctx, group_id):
    return posts.list_group_posts(ctx.user.user_id, group_id, ctx.page)
