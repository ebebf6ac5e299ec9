from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.domain import feed as rules
from chalicelib.schemas.base import HttpsUrl, Id, Labels, PostText, RequestModel, ResponseModel
from chalicelib.schemas.profiles import MerchantBlock

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


OptionText = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(not_blank)]


class PollOptionIn(RequestModel):
    text: OptionText
    product_id: Id | None = None


class PollIn(RequestModel):
    options: Annotated[list[PollOptionIn], Field(min_length=rules.POLL_MIN_OPTIONS, max_length=rules.POLL_MAX_OPTIONS)]
    closes_in_hours: Annotated[int, Field(ge=rules.POLL_MIN_HOURS, le=rules.POLL_MAX_HOURS)] = rules.POLL_DEFAULT_HOURS


class CreatePost(RequestModel):
    text: Annotated[PostText, AfterValidator(not_blank)]
    image_urls: Annotated[list[HttpsUrl], Field(max_length=MAX_IMAGES)] = []
    product_ids: Annotated[list[Id], Field(max_length=MAX_PRODUCTS), AfterValidator(_distinct)] = []
    labels: Labels = []
    group_id: Id | None = None
    poll: PollIn | None = None


class VoteIn(RequestModel):
    option: int


class AuthorOut(ResponseModel):
    user_id: str
    display_name: str
    merchant: MerchantBlock | None = None


class PollOptionOut(ResponseModel):
    text: str
    product_id: str | None = None
    votes: int


class PollOut(ResponseModel):
    options: list[PollOptionOut]
    closes_at: str
    closed: bool
    my_vote: int | None = None


class PostOut(ResponseModel):
    post_id: str
    author: AuthorOut
    text: str
    image_urls: list[str]
    product_ids: list[str]
    labels: list[str]
    group_id: str | None = None
    poll: PollOut | None = None
    created_at: str


class FanoutOut(ResponseModel):
    post_id: str
    mode: str  # push: written into followers' feeds; pull: merged into feeds on read
    done: bool
    cancelled: bool
    written: int
    steps: int
    created_at: str
    finished_at: str | None = None
