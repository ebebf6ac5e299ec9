"""Likes and comments of posts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, StringConstraints

from chalicelib.schemas.base import NOT_BLANK, RequestModel, ResponseModel
from chalicelib.schemas.cards import UserCard
from chalicelib.schemas.posts import not_blank

if TYPE_CHECKING:
    from chalicelib.models.social import Comment
    from chalicelib.services.social import LikeState

CommentText = Annotated[str, StringConstraints(min_length=1, max_length=1000), AfterValidator(not_blank), NOT_BLANK]


class LikeOut(ResponseModel):
    post_id: str
    liked: bool
    like_count: int

    @classmethod
    def from_state(cls, state: LikeState) -> LikeOut:
        return cls(post_id=state.post_id, liked=state.liked, like_count=state.like_count)


class CommentIn(RequestModel):
    text: CommentText


class CommentOut(ResponseModel):
    comment_id: str
    post_id: str
    author: UserCard
    text: str
    created_at: str

    @classmethod
    def from_item(cls, comment: Comment, author: UserCard) -> CommentOut:
        return cls(comment_id=comment.comment_id, post_id=comment.post_id, author=author, text=comment.text,
                   created_at=comment.created_at)
