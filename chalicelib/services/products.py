"""Merchants' products: create, read, list a merchant's catalogue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain.advice import MAX_ID_LENGTH, created_at_of, plausible_id
from chalicelib.domain.ids import new_id
from chalicelib.domain.products import DEFAULT_CURRENCY
from chalicelib.errors import Forbidden, NotFound
from chalicelib.models.advice import Product
from chalicelib.models.base import delete_if, get_or_404, update_if
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.advice import ProductOut
else:
    ProductOut, = lazy_models("chalicelib.schemas.advice", "ProductOut")


def product_view(product: Product, store=None) -> ProductOut:
    from chalicelib.services.profiles import merchant_block

    return ProductOut.from_item(product, merchant_block(store))


def with_stores(products: list[Product]) -> list[ProductOut]:
    """Product views with their stores' tier and badge, read in one BatchGetItem."""
    from chalicelib.services.merchants import standings

    stores = standings([p.merchant_id for p in products])
    return [product_view(p, stores.get(p.merchant_id)) for p in products]


def create(caller: Caller, title: str, price_cents: int, image_url: str | None, labels: list[str],
           description: str = "", currency: str = DEFAULT_CURRENCY) -> ProductOut:
    """One conditional put; Good Finds indexes the product from the Products stream."""
    product_id = new_id()
    created_at = created_at_of(product_id)
    product = Product(
        product_id,
        merchant_id=caller.user_id,
        title=title,
        price_cents=price_cents,
        image_url=image_url,
        labels=list(labels),
        description=description,
        currency=currency,
        rating_total=0,
        review_count=0,
        created_at=created_at,
    )
    product.save(condition=Product.product_id.does_not_exist())
    return with_stores([product])[0]


def get_product(product_id: str) -> Product:
    if not plausible_id(product_id):
        raise NotFound(f"No product {product_id[:MAX_ID_LENGTH]}")
    return get_or_404(Product, product_id, what="product")


def product(product_id: str) -> ProductOut:
    return with_stores([get_product(product_id)])[0]


def edit(caller: Caller, product_id: str, changes: dict) -> ProductOut:
    """PATCH, owner only: one conditional update; Good Finds re-indexes it from the Products stream."""
    item = own_product(caller, product_id)
    actions = [getattr(Product, name).set(value) for name, value in changes.items()]
    if actions and not update_if(item, actions, Product.merchant_id == caller.user_id):
        raise NotFound(f"No product {product_id}")
    for name, value in changes.items():
        setattr(item, name, value)
    return with_stores([item])[0]


def delete(caller: Caller, product_id: str) -> None:
    """DELETE, owner only: one conditional delete. Its REMOVE record takes it out of Good Finds
    (`good_finds.index_product`); wish lists keep their entries, whose cards show `available: false`."""
    item = own_product(caller, product_id)
    delete_if(item, Product.merchant_id == caller.user_id)  # gone meanwhile: done


def own_product(caller: Caller, product_id: str) -> Product:
    """The caller's store's product: 404 when there is none, 403 when it is another store's."""
    item = get_product(product_id)
    if item.merchant_id != caller.user_id:
        raise Forbidden("Only the product's store may change it")
    return item


def merchant_products(merchant_id: str, page: PageRequest) -> Page:
    """Newest first: one Query on `by_merchant`."""
    from chalicelib.services.merchants import get_store

    if not plausible_id(merchant_id):
        raise NotFound(f"No merchant {merchant_id[:MAX_ID_LENGTH]}")
    results = Product.by_merchant.query(
        merchant_id, scan_index_forward=False, limit=page.limit,
        last_evaluated_key=page.start_key(Product.by_merchant, merchant_id)
    )
    items = with_stores(list(results))
    if not items and page.position is None:
        get_store(merchant_id)  # 404 for an unknown store; read only when the first page is empty
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def list_products(label: str | None, page: PageRequest) -> Page:
    """Newest first, optionally of one label: one Query per shard of the label's product list (4, in
    parallel, `models.sharded`), merged, then ONE BatchGetItem of the products and ONE of their stores.
    The list is kept from the Products stream (`services.label_lists`), so a new product shows within
    seconds."""
    from chalicelib.domain.label_lists import product_list_partitions
    from chalicelib.domain.labels import LABEL_IDS
    from chalicelib.errors import BadRequest
    from chalicelib.models.base import batch_get

    if label is not None and label not in LABEL_IDS:
        raise BadRequest(f"label: unknown label {label!r}; see GET /labels")
    from chalicelib.services.label_lists import newest_in_label_index

    entries, next_cursor = newest_in_label_index(product_list_partitions(label), page)
    if not entries:
        return Page(items=[], next_cursor=next_cursor)
    found = batch_get([(Product, entry.item_id, None) for entry in entries])
    return Page(items=with_stores([p for p in found if p is not None]), next_cursor=next_cursor)
