"""Request and response models of purchase advice: questions, answers, products, reviews, wish lists."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.domain.advice import MAX_PRICE_CENTS, MAX_PRODUCTS_PER_QUESTION
from chalicelib.domain.products import DEFAULT_CURRENCY, ISO_4217_CODES, MAX_DESCRIPTION, check_currency
from chalicelib.schemas.base import Body, HttpsUrl, Id, Labels, RequestModel, ResponseModel, Title
from chalicelib.schemas.cards import ProductCard, UserCard
from chalicelib.schemas.profiles import MerchantBlock

RequiredLabels = Annotated[Labels, Field(min_length=1)]
ProductIds = Annotated[list[Id], Field(max_length=MAX_PRODUCTS_PER_QUESTION)]


class AskQuestion(RequestModel):
    title: Title
    body: Body
    labels: RequiredLabels
    product_ids: ProductIds = Field(default_factory=list)


class QuestionOut(ResponseModel):
    question_id: str
    asker_id: str
    user: UserCard = Field(description="The asker's card")
    title: str
    body: str
    labels: list[str]
    product_ids: list[str]
    products: list[ProductCard] = Field(description="The cards of `product_ids`, in that order")
    answer_count: int
    accepted_answer_id: str | None = None
    created_at: str


class PostAnswer(RequestModel):
    body: Body


class AnswerOut(ResponseModel):
    answer_id: str
    question_id: str
    author_id: str
    user: UserCard = Field(description="The answerer's card")
    body: str
    score: int
    upvotes: int
    downvotes: int
    accepted: bool
    created_at: str
    my_vote: int = Field(0, description="The caller's vote on this answer: 1, -1 or 0 (none)")


class AcceptAnswer(RequestModel):
    answer_id: Id


class AcceptanceOut(ResponseModel):
    question_id: str
    accepted_answer_id: str


class CastVote(RequestModel):
    value: Annotated[int, Field(ge=-1, le=1, json_schema_extra={"enum": [-1, 0, 1]},
                                description="1 upvotes, -1 downvotes, 0 withdraws the caller's vote")]


class VoteOut(ResponseModel):
    answer_id: str
    value: int


Currency = Annotated[str, Field(description="An ISO 4217 code", json_schema_extra={"enum": sorted(ISO_4217_CODES)}),
                    AfterValidator(check_currency)]


class CreateProduct(RequestModel):
    title: Title
    price_cents: Annotated[int, Field(gt=0, le=MAX_PRICE_CENTS)]
    image_url: HttpsUrl | None = None
    labels: RequiredLabels
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] = ""
    currency: Currency = DEFAULT_CURRENCY


class ProductOut(ResponseModel):
    product_id: str
    merchant_id: str
    title: str
    price_cents: int
    image_url: str | None = None
    labels: list[str]
    description: str = ""
    currency: str = DEFAULT_CURRENCY
    rating_avg: float | None = Field(None, description="The mean rating of its reviews (null without one)")
    review_count: int = 0
    created_at: str
    merchant: MerchantBlock | None = None  # the store's name, tier and badge


class WriteReview(RequestModel):
    rating: Annotated[int, Field(ge=1, le=5)]
    body: Body


class ReviewOut(ResponseModel):
    review_id: str
    product_id: str
    author_id: str
    user: UserCard = Field(description="The reviewer's card")
    rating: int
    body: str
    helpful_count: int
    created_at: str
    marked_helpful: bool = Field(False, description="Whether the caller has marked this review helpful")


class MarkHelpful(RequestModel):
    value: bool


class HelpfulOut(ResponseModel):
    review_id: str
    helpful: bool


class WishlistEntryOut(ResponseModel):
    product_id: str
    title: str
    price_cents: int
    added_at: str
    product: ProductCard = Field(description="The product as it is now (`available: false` once deleted)")
