"""Request and response models of purchase advice: questions, answers, products, reviews, wish lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.domain.advice import MAX_PRICE_CENTS, MAX_PRODUCTS_PER_QUESTION
from chalicelib.domain.products import DEFAULT_CURRENCY, ISO_4217_CODES, MAX_DESCRIPTION, check_currency, rating_average
from chalicelib.schemas.base import Body, HttpsUrl, Id, Labels, PatchModel, RequestModel, ResponseModel, Title
from chalicelib.schemas.cards import ProductCard, UserCard
from chalicelib.schemas.posts import MAX_IMAGES
from chalicelib.schemas.profiles import MerchantBlock

if TYPE_CHECKING:
    from chalicelib.models.advice import Answer, Product, Question, Review, WishlistEntry

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
    removed_at: str | None = Field(None, description="Removed by a moderator: shown to its asker and admins only")

    @classmethod
    def from_item(cls, question: Question, user: UserCard, products: dict[str, ProductCard]) -> QuestionOut:
        """The question with its asker's card and its products' cards (`products` holds every one)."""
        product_ids = [str(value) for value in question.product_ids or []]
        return cls(
            question_id=question.question_id,
            asker_id=question.asker_id,
            user=user,
            title=question.title,
            body=question.body,
            labels=[str(value) for value in question.labels or []],
            product_ids=product_ids,
            products=[products[product_id] for product_id in product_ids],
            answer_count=int(question.answer_count or 0),
            accepted_answer_id=question.accepted_answer_id,
            created_at=question.created_at,
            removed_at=question.removed_at,
        )


class EditQuestion(PatchModel):
    """PATCH: the fields given replace the question's (its products stay)."""

    title: Title | None = None
    body: Body | None = None
    labels: RequiredLabels | None = None


class PostAnswer(RequestModel):
    body: Body


class EditAnswer(RequestModel):
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

    @classmethod
    def from_item(cls, answer: Answer, user: UserCard, my_vote: int = 0) -> AnswerOut:
        return cls(
            answer_id=answer.answer_id,
            question_id=answer.question_id,
            author_id=answer.author_id,
            user=user,
            body=answer.body,
            score=int(answer.score or 0),
            upvotes=int(answer.upvotes or 0),
            downvotes=int(answer.downvotes or 0),
            accepted=bool(answer.accepted),
            created_at=answer.created_at,
            my_vote=my_vote,
        )


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


class EditProduct(PatchModel):
    """PATCH: the fields given replace the product's."""

    title: Title | None = None
    price_cents: Annotated[int, Field(gt=0, le=MAX_PRICE_CENTS)] | None = None
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] | None = None
    currency: Currency | None = None
    image_url: HttpsUrl | None = None
    labels: RequiredLabels | None = None


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

    @classmethod
    def from_item(cls, product: Product, merchant: MerchantBlock | None) -> ProductOut:
        """The product with its store's name, tier and badge (judges' panel)."""
        return cls(
            product_id=product.product_id,
            merchant_id=product.merchant_id,
            title=product.title,
            price_cents=int(product.price_cents),
            image_url=product.image_url,
            labels=[str(value) for value in product.labels or []],
            description=product.description or "",
            currency=product.currency or DEFAULT_CURRENCY,
            rating_avg=rating_average(int(product.rating_total or 0), int(product.review_count or 0)),
            review_count=int(product.review_count or 0),
            created_at=product.created_at,
            merchant=merchant,
        )


ReviewImages = Annotated[list[HttpsUrl], Field(max_length=MAX_IMAGES)]
Rating = Annotated[int, Field(ge=1, le=5)]


class WriteReview(RequestModel):
    rating: Rating
    body: Body
    image_urls: ReviewImages = Field(default_factory=list)


class EditReview(PatchModel):
    """PATCH: the fields given replace the review's."""

    rating: Rating | None = None
    body: Body | None = None
    image_urls: ReviewImages | None = None


class ReviewOut(ResponseModel):
    review_id: str
    product_id: str
    author_id: str
    user: UserCard = Field(description="The reviewer's card")
    rating: int
    body: str
    image_urls: list[str] = Field(default_factory=list)
    helpful_count: int
    created_at: str
    marked_helpful: bool = Field(False, description="Whether the caller has marked this review helpful")

    @classmethod
    def from_item(cls, review: Review, user: UserCard, marked_helpful: bool = False) -> ReviewOut:
        return cls(
            review_id=review.review_id,
            product_id=review.product_id,
            author_id=review.author_id,
            user=user,
            rating=int(review.rating),
            body=review.body,
            image_urls=[str(value) for value in review.image_urls or []],
            helpful_count=int(review.helpful_count or 0),
            created_at=review.created_at,
            marked_helpful=marked_helpful,
        )


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

    @classmethod
    def from_item(cls, entry: WishlistEntry, product: ProductCard) -> WishlistEntryOut:
        """The entry as added (title and price then) and the product's card as it is now."""
        return cls(product_id=entry.product_id, title=entry.title, price_cents=int(entry.price_cents),
                   added_at=entry.added_at, product=product)
