"""Likes and comments of posts."""

from typing import TYPE_CHECKING

from chalicelib.http import Api
from chalicelib.pagination import Page
from chalicelib.schemas import lazy_models
from chalicelib.services import social
from chalicelib.services.cards import user_cards

if TYPE_CHECKING:
    from chalicelib.schemas.social import CommentIn, CommentOut, LikeOut
else:
    CommentIn, CommentOut, LikeOut = lazy_models("chalicelib.schemas.social", "CommentIn", "CommentOut", "LikeOut")

api = Api(__name__, tag="feed")
blueprint = api.blueprint


@api.route("PUT", "/posts/{post_id}/like", summary="Like a post (idempotent); the count may trail by seconds",
           response=LikeOut, errors=(403, 404))
def like_post(ctx, post_id):
    return LikeOut.from_state(social.like(ctx.user, post_id))


@api.route("DELETE", "/posts/{post_id}/like", summary="Take back the caller's like (idempotent)",
           response=LikeOut, errors=(403, 404))
def unlike_post(ctx, post_id):
    return LikeOut.from_state(social.unlike(ctx.user, post_id))


@api.route("POST", "/posts/{post_id}/comments", summary="Comment on a post; its author is notified",
           body=CommentIn, response=CommentOut, status=201, errors=(403, 404))
def add_comment(ctx, post_id):
    comment = social.add_comment(ctx.user, post_id, ctx.body.text)
    return CommentOut.from_item(comment, user_cards([comment.author_id])[comment.author_id])


@api.route("GET", "/posts/{post_id}/comments", summary="A post's comments, oldest first",
           response=CommentOut, paginated=True, errors=(404,))
def list_comments(ctx, post_id):
    comments, next_key = social.list_comments(post_id, ctx.page)
    cards = user_cards({comment.author_id for comment in comments}) if comments else {}
    return Page(items=[CommentOut.from_item(comment, cards[comment.author_id]) for comment in comments],
                next_cursor=ctx.page.next_cursor(next_key))


@api.route("DELETE", "/comments/{comment_id}", summary="Delete a comment (its author or the post's author)",
           status=204, errors=(403, 404))
def delete_comment(ctx, comment_id):
    social.delete_comment(ctx.user, comment_id)
