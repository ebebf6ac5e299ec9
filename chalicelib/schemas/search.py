"""Search hits and follow suggestions (SPEC "Discovery")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.schemas.advice import QuestionOut
from chalicelib.schemas.base import ResponseModel
from chalicelib.schemas.cards import ProductCard, UserCard
from chalicelib.schemas.groups import GroupOut
from chalicelib.schemas.merchants import MerchantOut


class SearchHit(ResponseModel):
    """One match of `GET /search`: `type` says which one of the cards is set (the others are null)."""

    type: Literal["user", "store", "product", "question", "circle"]
    id: str = Field(description="The user, store (its owner's user id), product, question or circle id")
    user: UserCard | None = None
    store: MerchantOut | None = None
    product: ProductCard | None = None
    question: QuestionOut | None = None
    circle: GroupOut | None = None


class FollowSuggestion(ResponseModel):
    """Someone to follow: an expert of one of the caller's labels, or a rated store of one."""

    user_id: str
    reason: Literal["expert", "store"]
    label: str = Field(description="The caller's label this suggestion comes from")
    score: int | None = Field(None, description="The expert score in `label` (experts)")
    level: int | None = Field(None, description="The expert level in `label` (experts)")
    tier: str | None = Field(None, description="The store's tier (stores)")
    user: UserCard
    store: MerchantOut | None = Field(None, description="The store (stores)")
