from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from chalicelib.domain import polls
from chalicelib.schemas.activity import ActivityItemOut
from chalicelib.schemas.base import (
    NOT_BLANK,
    Deferred,
    HttpsUrl,
    Id,
    Labels,
    PatchModel,
    PostText,
    RequestModel,
    ResponseModel,
)
from chalicelib.schemas.cards import ProductCard, UserCard

if TYPE_CHECKING:
    from chalicelib.models.posts import FanoutJob, Post
    from chalicelib.services.social import SocialReading  # noqa: F401

MAX_IMAGES = 9
MAX_PRODUCTS = 20


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _distinct(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat an entry")
    return values


OptionText = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(not_blank), NOT_BLANK]


class PollOptionIn(RequestModel):
    text: OptionText
    product_id: Id | None = None


class PollIn(RequestModel):
    options: Annotated[list[PollOptionIn], Field(min_length=polls.MIN_OPTIONS, max_length=polls.MAX_OPTIONS)]
    closes_in_hours: Annotated[int, Field(ge=polls.MIN_HOURS, le=polls.MAX_HOURS)] = polls.DEFAULT_HOURS


class CreatePost(RequestModel):
    text: Annotated[PostText, AfterValidator(not_blank), NOT_BLANK]
    image_urls: Annotated[list[HttpsUrl], Field(max_length=MAX_IMAGES)] = []
    product_ids: Annotated[list[Id], Field(max_length=MAX_PRODUCTS, json_schema_extra={"uniqueItems": True}),
                           AfterValidator(_distinct)] = []
    labels: Labels = []
    group_id: Id | None = None
    poll: PollIn | None = None


class VoteIn(RequestModel):
    # the poll's own option count bounds it further (a 400 names the range)
    option: Annotated[int, Field(json_schema_extra={"minimum": 0, "maximum": polls.MAX_OPTIONS - 1},
                                 description="The option's index, from 0")]


class PollOptionOut(ResponseModel):
    text: str
    product_id: str | None = None
    product: ProductCard | None = None
    votes: int


class PollOut(ResponseModel):
    options: list[PollOptionOut]
    closes_at: str
    closed: bool
    my_vote: int | None = None

    @classmethod
    def from_tally(cls, tally: polls.Tally, products: dict[str, ProductCard] | None = None) -> PollOut:
        products = products or {}
        return cls(
            options=[PollOptionOut(text=o.text, product_id=o.product_id,
                                   product=products.get(o.product_id) if o.product_id else None, votes=o.votes)
                     for o in tally.options],
            closes_at=tally.closes_at,
            closed=tally.closed,
            my_vote=tally.my_vote,
        )


class PostOut(ResponseModel):
    kind: Literal["post"] = "post"
    post_id: str
    author_id: str
    author: UserCard
    text: str
    image_urls: list[str]
    product_ids: list[str]
    products: list[ProductCard] = Field(description="The cards of `product_ids`, in that order")
    labels: list[str]
    group_id: str | None = None
    poll: PollOut | None = None
    like_count: int = Field(0, description="May trail the likes by seconds")
    comment_count: int = Field(0, description="May trail the comments by seconds")
    liked_by_me: bool = False
    created_at: str
    edited_at: str | None = None
    removed_at: str | None = Field(None, description="Removed by a moderator: shown to its author and admins only")

    @classmethod
    def from_item(cls, post: Post, author: UserCard, poll: PollOut | None,
                  products: dict[str, ProductCard] | None = None, social: SocialReading | None = None) -> PostOut:
        """The post as the API shows it; the cards, the poll's tally, the counts and their like are the reader's."""
        from chalicelib.services.social import SocialReading

        social = social or SocialReading()
        product_ids = [str(value) for value in post.product_ids or []]
        return cls(
            post_id=post.post_id,
            author_id=post.author_id,
            author=author,
            text=post.text,
            image_urls=[str(value) for value in post.image_urls or []],
            product_ids=product_ids,
            products=[(products or {})[product_id] for product_id in product_ids if product_id in (products or {})],
            labels=[str(value) for value in post.labels or []],
            group_id=post.group_id,
            poll=poll,
            like_count=social.like_count,
            comment_count=social.comment_count,
            liked_by_me=social.liked_by_me,
            created_at=post.created_at,
            edited_at=post.edited_at,
            removed_at=post.removed_at,
        )


class FanoutOut(ResponseModel):
    post_id: str
    mode: str  # push: written into followers' feeds; pull: merged into feeds on read
    done: bool
    cancelled: bool
    written: int
    steps: int
    created_at: str
    finished_at: str | None = None

    @classmethod
    def from_job(cls, job: FanoutJob) -> FanoutOut:
        return cls(post_id=job.post_id, mode=job.mode, done=bool(job.done), cancelled=bool(job.cancelled),
                   written=int(job.written or 0), steps=int(job.steps or 0), created_at=job.created_at,
                   finished_at=job.finished_at)


def _feed_item_out() -> type[BaseModel]:
    from pydantic import RootModel

    from chalicelib.schemas.live import LiveFeedItemOut  # it imports this module's models

    # A home-feed item, told apart by `kind`: a post, a shared activity or a live room.
    item = Annotated[Union[PostOut, ActivityItemOut, LiveFeedItemOut], Field(discriminator="kind")]  # noqa: UP007

    class FeedItemOut(RootModel[item]):  # type: ignore[valid-type]
        """One item of `GET /feed`: `kind` says which shape it has."""

    FeedItemOut.__qualname__ = "FeedItemOut"
    return FeedItemOut


#: One item of `GET /feed` (a `RootModel` union, made on first use: see `Deferred`).
FeedItemOut = Deferred(_feed_item_out)



class EditPost(PatchModel):
    """PATCH: the fields given replace the post's; a poll's options never change (`poll` is unknown here)."""

    text: Annotated[PostText, AfterValidator(not_blank), NOT_BLANK] | None = None
    image_urls: Annotated[list[HttpsUrl], Field(max_length=MAX_IMAGES)] | None = None
    labels: Labels | None = None
