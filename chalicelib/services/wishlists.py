"""Wish lists: a user's list of products they want, each entry with title and price; who may see it is
the owner's choice (`PUT /me/wishlist/settings`, `services.activity_reads`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain.advice import MAX_ID_LENGTH, plausible_id
from chalicelib.domain.ids import now_iso
from chalicelib.errors import NotFound
from chalicelib.models.advice import Product, WishlistEntry
from chalicelib.models.base import batch_get, put_unless_present
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models
from chalicelib.services.cards import cards_of_products, product_cards
from chalicelib.services.products import get_product

if TYPE_CHECKING:
    from chalicelib.schemas.advice import WishlistEntryOut
    from chalicelib.schemas.cards import ProductCard
else:
    WishlistEntryOut, = lazy_models("chalicelib.schemas.advice", "WishlistEntryOut")
    ProductCard, = lazy_models("chalicelib.schemas.cards", "ProductCard")


def entry_view(entry: WishlistEntry, product: ProductCard) -> WishlistEntryOut:
    return WishlistEntryOut.from_item(entry, product)


def _kept(entry: WishlistEntry) -> dict:
    return {"title": entry.title, "price_cents": int(entry.price_cents), "merchant_id": entry.merchant_id}


def entry_views(entries: list[WishlistEntry]) -> list[WishlistEntryOut]:
    """The entries with their products' cards: one BatchGetItem (products and stores); a deleted
    product's card is `available: false` with the entry's title and price."""
    cards = product_cards([e.product_id for e in entries], kept={e.product_id: _kept(e) for e in entries})
    return [entry_view(e, cards[e.product_id]) for e in entries]


def add(caller: Caller, product_id: str) -> WishlistEntryOut:
    """Idempotent: adding a product already on the list keeps the original entry."""
    product = get_product(product_id)
    entry = WishlistEntry(
        caller.user_id, product_id, title=product.title, price_cents=product.price_cents,
        merchant_id=product.merchant_id, added_at=now_iso(),
    )
    stored = put_unless_present(entry)
    return entry_view(stored, cards_of_products({product_id: product})[product_id])


def remove(caller: Caller, product_id: str) -> None:
    """Idempotent: removing a product that is not on the list is a no-op; a product that neither
    exists nor is on the list is a 404 (most likely a wrong id)."""
    if not plausible_id(product_id):
        raise NotFound(f"No product {product_id[:MAX_ID_LENGTH]}")
    product, entry = batch_get([(Product, product_id, None), (WishlistEntry, caller.user_id, product_id)])
    if product is None and entry is None:
        raise NotFound(f"No product {product_id}")
    WishlistEntry(caller.user_id, product_id).delete()


def wishlist(user_id: str, page: PageRequest, viewer_id: str | None = None) -> Page:
    """Newest products first (product ids sort by time): one Query on the user's partition, after
    one BatchGetItem that checks the viewer may see it (the owner's visibility, follows, blocks)."""
    from chalicelib.services.activity_reads import require_wishlist_visible
    from chalicelib.services.graph import require_user

    if not plausible_id(user_id):
        raise NotFound(f"No user {user_id[:MAX_ID_LENGTH]}")
    if viewer_id is not None:
        require_wishlist_visible(viewer_id, user_id)
    results = WishlistEntry.query(
        user_id, scan_index_forward=False, limit=page.limit,
        last_evaluated_key=page.start_key(WishlistEntry, user_id)
    )
    items = entry_views(list(results))
    if not items and page.position is None:
        require_user(user_id)  # read only when the first page is empty
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))
