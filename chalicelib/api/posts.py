"""Posts, polls and the home feed."""

from typing import TYPE_CHECKING

from chalicelib.errors import Forbidden, NotFound
from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import fanout, feed, posts

if TYPE_CHECKING:
    from chalicelib.schemas.posts import CreatePost, EditPost, FanoutOut, FeedItemOut, PostOut, VoteIn
else:
    (
        CreatePost, EditPost, FanoutOut, FeedItemOut, PostOut, VoteIn,
    ) = lazy_models(
        "chalicelib.schemas.posts",
        "CreatePost", "EditPost", "FanoutOut", "FeedItemOut", "PostOut", "VoteIn",
    )

api = Api(__name__, tag="feed")
blueprint = api.blueprint


@api.route("POST", "/posts", summary="Publish a post (optionally in a circle, optionally with a poll)",
           body=CreatePost, response=PostOut, status=201, errors=(403, 404))
def create_post(ctx):
    body = ctx.body
    poll = body.poll.model_dump() if body.poll is not None else None
    return posts.create_post(ctx.user, body.text, body.image_urls, body.product_ids, body.labels, body.group_id,
                             poll)


@api.route("GET", "/posts/{post_id}", summary="A post, with its poll's counts and the caller's vote",
           response=PostOut)
def get_post(ctx, post_id):
    return posts.get_post(ctx.user.user_id, post_id, admin=ctx.user.in_group("admins"))


@api.route("DELETE", "/posts/{post_id}", summary="Delete a post (author only); it leaves every feed",
           status=204, errors=(403,))
def delete_post(ctx, post_id):
    posts.delete_post(ctx.user, post_id)


@api.route("GET", "/posts/{post_id}/fanout", summary="How far a post's fan-out has got (author only)",
           response=FanoutOut, errors=(403,))
def get_fanout(ctx, post_id):
    job = fanout.fan_out_status(post_id)
    if job is None:
        raise NotFound(f"No fan-out for post {post_id}")
    if job.author_id != ctx.user.user_id:
        raise Forbidden("Only the author may see a post's fan-out")
    return FanoutOut.from_job(job)


@api.route("POST", "/posts/{post_id}/poll/votes", summary="Vote in a post's poll (once)", body=VoteIn,
           response=PostOut, errors=("AlreadyVoted", "PollClosed"))
def vote(ctx, post_id):
    return posts.vote(ctx.user, post_id, ctx.body.option)


@api.route("PUT", "/posts/{post_id}/poll/votes/me", summary="Cast or change the caller's vote while the poll is open",
           body=VoteIn, response=PostOut, errors=("PollClosed",))
def set_my_vote(ctx, post_id):
    return posts.set_vote(ctx.user, post_id, ctx.body.option)


@api.route("DELETE", "/posts/{post_id}/poll/votes/me", summary="Withdraw the caller's vote while the poll is open",
           status=204, errors=("PollClosed",))
def withdraw_my_vote(ctx, post_id):
    posts.withdraw_vote(ctx.user, post_id)


@api.route("GET", "/users/{user_id}/posts", summary="A user's posts outside circles, newest first",
           response=PostOut, paginated=True)
def list_user_posts(ctx, user_id):
    return posts.list_author_posts(ctx.user.user_id, user_id, ctx.page)


@api.route("GET", "/feed", summary="The caller's home feed, newest first", response=FeedItemOut,
           paginated=True, errors=("Busy",))
def get_feed(ctx):
    return feed.read_feed(ctx.user.user_id, ctx.page)


@api.route("PATCH", "/posts/{post_id}", summary="Edit a post's text, images or labels (author only)",
           body=EditPost, response=PostOut, errors=(403,))
def edit_post(ctx, post_id):
    return posts.edit_post(ctx.user, post_id, ctx.body.model_dump(exclude_unset=True, exclude_none=True))
