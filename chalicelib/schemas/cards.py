"""The user card and the product card: how every response names a person or a product (SPEC Round 2)."""

from __future__ import annotations

from chalicelib.schemas.base import ResponseModel

DELETED_USER_NAME = "Deleted user"


class CardExpertLevel(ResponseModel):
    label: str
    level: int


class CardStore(ResponseModel):
    """A person's store, on their user card."""

    store_name: str
    tier: str | None = None
    badge: str | None = None


class UserCard(ResponseModel):
    """`user_id` is null (and the name "Deleted user") for an erased account."""

    user_id: str | None
    display_name: str
    avatar_url: str | None = None
    expert: list[CardExpertLevel] = []
    merchant: CardStore | None = None

    @classmethod
    def deleted(cls) -> UserCard:
        return cls(user_id=None, display_name=DELETED_USER_NAME, avatar_url=None, expert=[], merchant=None)


class ProductStore(ResponseModel):
    """The store selling a product, on its product card."""

    merchant_id: str
    store_name: str | None = None
    tier: str | None = None
    badge: str | None = None


class ProductCard(ResponseModel):
    """`available` is false for a deleted product; what the card then shows is what was kept of it."""

    product_id: str
    title: str | None
    price_cents: int | None
    currency: str
    image_url: str | None = None
    rating_avg: float | None = None
    review_count: int = 0
    available: bool
    merchant: ProductStore | None
