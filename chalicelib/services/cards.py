"""User and product cards: the data access and the view, in one place.

A card is built from items read in ONE BatchGetItem: the people's profiles (their expert levels
are kept on the profile by the experts handler, so no Query is needed) and stores, the products
and their stores. A page that already makes a batched read adds the card keys to it
(`CardRead.keys()` / `CardRead.build()`); `user_cards` and `product_cards` are that read alone.

A product's store is known before the product is read when the item that names the product kept
its `merchant_id` (a post keeps `product_merchants`); otherwise the stores missing after the first
read cost one more BatchGetItem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.domain.points import reached_levels
from chalicelib.domain.products import DEFAULT_CURRENCY, rating_average
from chalicelib.models.advice import Product
from chalicelib.models.base import batch_get
from chalicelib.models.merchants import Merchant
from chalicelib.models.users import UserProfile
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.cards import CardExpertLevel, CardStore, ProductCard, ProductStore, UserCard
else:
    (
        CardExpertLevel, CardStore, ProductCard, ProductStore, UserCard,
    ) = lazy_models(
        "chalicelib.schemas.cards",
        "CardExpertLevel", "CardStore", "ProductCard", "ProductStore", "UserCard",
    )


# -- views ------------------------------------------------------------------------------------------
def expert_levels(profile: UserProfile) -> list[CardExpertLevel]:
    """The levels kept on the profile (each label's highest), highest first, then by label."""
    levels = reached_levels(profile.expert_levels or ())
    return [CardExpertLevel(label=label, level=level)
            for label, level in sorted(levels.items(), key=lambda pair: (-pair[1], pair[0]))]


def store_of(merchant: Merchant | None) -> CardStore | None:
    if merchant is None or not merchant.store_name:
        return None
    return CardStore(store_name=merchant.store_name, tier=merchant.tier, badge=merchant.badge)


def user_card(user_id: str, profile: UserProfile | None, merchant: Merchant | None) -> UserCard:
    """A user's card; an account without a profile is an erased one (profiles exist from sign-up)."""
    from chalicelib.services.profiles import display_name_of

    if profile is None:
        return UserCard.deleted()
    return UserCard(user_id=user_id, display_name=display_name_of(profile, user_id), avatar_url=profile.avatar_url,
                    expert=expert_levels(profile), merchant=store_of(merchant))


def token_card(user_id: str, display_name: str) -> UserCard:
    """The card a write's response shows when it read no profile (the token's name, SPEC: a card may
    trail by seconds): the next read of the resource shows the full card."""
    return UserCard(user_id=user_id, display_name=display_name)


def product_card(product_id: str, product: Product | None, merchant: Merchant | None,
                 kept: Mapping[str, Any] | None = None) -> ProductCard:
    """A product's card; a deleted product is `available: false` with what `kept` holds of it
    (a wish-list entry's or a Good Find's copies: title, price_cents, image_url, merchant_id)."""
    if product is None:
        kept = kept or {}
        merchant_id = kept.get("merchant_id")
        return ProductCard(
            product_id=product_id, title=kept.get("title"), price_cents=kept.get("price_cents"),
            currency=str(kept.get("currency") or DEFAULT_CURRENCY), image_url=kept.get("image_url"),
            rating_avg=None, review_count=0, available=False,
            merchant=_product_store(str(merchant_id), merchant) if merchant_id else None,
        )
    review_count = int(product.review_count or 0)
    return ProductCard(
        product_id=product_id,
        title=product.title,
        price_cents=int(product.price_cents),
        currency=product.currency or DEFAULT_CURRENCY,
        image_url=product.image_url,
        rating_avg=rating_average(int(product.rating_total or 0), review_count),
        review_count=review_count,
        available=True,
        merchant=_product_store(product.merchant_id, merchant),
    )


def _product_store(merchant_id: str, merchant: Merchant | None) -> ProductStore:
    if merchant is None:
        return ProductStore(merchant_id=merchant_id)
    return ProductStore(merchant_id=merchant_id, store_name=merchant.store_name, tier=merchant.tier,
                        badge=merchant.badge)


def store_card(merchant_id: str, merchant: Merchant | None) -> ProductStore:
    """A store on its own (a store followed, a coupon's store): the same block a product card shows."""
    return _product_store(merchant_id, merchant)


# -- data access ------------------------------------------------------------------------------------
@dataclass
class Cards:
    users: dict[str, UserCard] = field(default_factory=dict)
    products: dict[str, ProductCard] = field(default_factory=dict)
    stores: dict[str, Merchant | None] = field(default_factory=dict)  # the Merchant items read, by id


@dataclass
class CardRead:
    """The keys of the cards a page needs, to ride in the page's batched read, and the cards built
    from what that read found.

    `merchant_of` names the store of products whose store is already known (kept on the item that
    names them), so the store is read in the same call as the product.
    """

    user_ids: list[str]
    product_ids: list[str]
    merchant_of: dict[str, str]
    kept: dict[str, Mapping[str, Any]]

    def __init__(self, user_ids: Iterable[str] = (), product_ids: Iterable[str] = (),
                 merchant_of: Mapping[str, str] | None = None,
                 kept: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.user_ids = list(dict.fromkeys(user_id for user_id in user_ids if user_id))
        self.product_ids = list(dict.fromkeys(product_id for product_id in product_ids if product_id))
        self.merchant_of = {p: m for p, m in (merchant_of or {}).items() if p in self.product_ids and m}
        self.kept = dict(kept or {})
        for product_id, copy in self.kept.items():
            if product_id in self.product_ids and copy.get("merchant_id"):
                self.merchant_of.setdefault(product_id, str(copy["merchant_id"]))
        self._merchant_ids = list(dict.fromkeys([*self.user_ids, *self.merchant_of.values()]))

    def keys(self) -> list[tuple]:
        """The keys to add to a `batch_get` (in this order, after the page's own)."""
        return ([(UserProfile, user_id, None) for user_id in self.user_ids]
                + [(Merchant, merchant_id, None) for merchant_id in self._merchant_ids]
                + [(Product, product_id, None) for product_id in self.product_ids])

    def build(self, found: list) -> Cards:
        """The cards from what the batched read found for `keys()` (the same count, in order).

        Stores of products whose store was not known beforehand are read here, in one more call.
        """
        users, rest = found[:len(self.user_ids)], found[len(self.user_ids):]
        stores_found, products_found = rest[:len(self._merchant_ids)], rest[len(self._merchant_ids):]
        profiles = dict(zip(self.user_ids, users, strict=True))
        stores: dict[str, Merchant | None] = dict(zip(self._merchant_ids, stores_found, strict=True))
        products: dict[str, Product | None] = dict(zip(self.product_ids, products_found, strict=True))
        unread = sorted({p.merchant_id for p in products.values() if p is not None and p.merchant_id not in stores})
        if unread:
            stores.update(zip(unread, batch_get([(Merchant, m, None) for m in unread]), strict=True))  # type: ignore[arg-type]
        cards = Cards(stores=stores)
        for user_id in self.user_ids:
            cards.users[user_id] = user_card(user_id, profiles[user_id], stores.get(user_id))
        for product_id in self.product_ids:
            product = products[product_id]
            merchant_id = product.merchant_id if product is not None else self.merchant_of.get(product_id)
            cards.products[product_id] = product_card(
                product_id, product, stores.get(merchant_id) if merchant_id else None, self.kept.get(product_id))
        return cards


def read_cards(user_ids: Iterable[str] = (), product_ids: Iterable[str] = (),
               merchant_of: Mapping[str, str] | None = None,
               kept: Mapping[str, Mapping[str, Any]] | None = None) -> Cards:
    """The cards of these people and products: one BatchGetItem (a second only for products whose
    store was not known, see the module's docstring); no call at all for none."""
    read = CardRead(user_ids, product_ids, merchant_of, kept)
    keys = read.keys()
    return read.build(batch_get(keys) if keys else [])


def cards_of_products(products: Mapping[str, Product | None]) -> dict[str, ProductCard]:
    """Cards of products already read: their stores in one BatchGetItem (none for no product)."""
    merchant_ids = sorted({product.merchant_id for product in products.values() if product is not None})
    stores: dict[str, Merchant | None] = {}
    if merchant_ids:
        stores.update(zip(merchant_ids, batch_get([(Merchant, m, None) for m in merchant_ids]), strict=True))  # type: ignore[arg-type]
    return {product_id: product_card(product_id, product, stores.get(product.merchant_id) if product else None)
            for product_id, product in products.items()}


def user_cards(user_ids: Iterable[str]) -> dict[str, UserCard]:
    """`{user_id: UserCard}` from ONE BatchGetItem of the profiles and stores."""
    return read_cards(user_ids=user_ids).users


def product_cards(product_ids: Iterable[str], merchant_of: Mapping[str, str] | None = None,
                  kept: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, ProductCard]:
    """`{product_id: ProductCard}`: the products and (when `merchant_of` names them) their stores in
    ONE BatchGetItem."""
    return read_cards(product_ids=product_ids, merchant_of=merchant_of, kept=kept).products
