"""The store directory and the product lists by label: kept from the Merchants and Products streams.

Both live in the LabelIndex table (`domain.label_lists` has the keys). Each effect reads the item as
it is now (consistently) and makes its entries match it: the entries named by the record's old
image that the item no longer wants are deleted, the wanted ones put. So a replayed or late record
rewrites the current state, never an old one.
"""

from __future__ import annotations

from chalicelib.domain.changes import Change
from chalicelib.domain.label_lists import product_list_keys, store_entries
from chalicelib.models.advice import LabelIndexEntry, Product
from chalicelib.models.base import get_or_none
from chalicelib.models.merchants import Merchant, StoreListing
from chalicelib.pagination import PageRequest

STORE_FIELDS = ("store_name", "labels", "tier", "created_at")
PRODUCT_FIELDS = ("labels",)


def _store_entries_of(image: dict | None) -> set[tuple[str, str]]:
    if not image:
        return set()
    return store_entries(image["merchant_id"], image.get("store_name"), image.get("labels") or [],
                         image.get("tier"), image.get("created_at"))


def list_store(change: Change) -> None:
    """Merchants stream effect: the store's directory entries follow its name, labels and tier
    (a score that moves no tier writes nothing)."""
    if change.kind == "MODIFY" and not change.changed(*STORE_FIELDS):
        return
    merchant_id = change.keys["merchant_id"]
    merchant = get_or_none(Merchant, merchant_id, consistent_read=True)
    wanted = set()
    if merchant is not None:
        labels = [str(label) for label in merchant.labels or []]
        wanted = store_entries(merchant_id, merchant.store_name, labels, merchant.tier, merchant.created_at)
    stale = _store_entries_of(change.old) - wanted
    with StoreListing.batch_write() as batch:
        for key, rank in stale:
            batch.delete(StoreListing(key, rank))
        for key, rank in wanted:
            batch.save(StoreListing(key, rank, merchant_id=merchant_id))


def _listed(product: Product | None) -> bool:
    """A product is listed while its item exists (DELETE /products removes the item)."""
    return product is not None


def list_product(change: Change) -> None:
    """Products stream effect: the product's entries in the lists of its labels and of "*" follow its
    labels; a removed product leaves them. Reviews and ratings write nothing here."""
    if change.kind == "MODIFY" and not change.changed(*PRODUCT_FIELDS):
        return
    product_id = change.keys["product_id"]
    product = get_or_none(Product, product_id, consistent_read=True)
    wanted = set()
    if product is not None and _listed(product):
        wanted = product_list_keys(product_id, [str(label) for label in product.labels or []])
    old = change.old or {}
    stale = (product_list_keys(product_id, old.get("labels") or []) if old else set()) - wanted
    with LabelIndexEntry.batch_write() as batch:
        for key in stale:
            batch.delete(LabelIndexEntry(key, product_id))
        for key in wanted:
            batch.save(LabelIndexEntry(key, product_id, created_at=product.created_at if product else None))


def newest_in_label_index(partitions: list[str], page: PageRequest) -> tuple[list[LabelIndexEntry], str | None]:
    """A page of a LabelIndex list kept in shards (questions, products), newest first: one Query per
    shard, in parallel, merged (`models.sharded`); ids are time-sortable. Returns (entries, cursor)."""
    from chalicelib.models.sharded import ShardedList, read_sharded_page

    listing = ShardedList(
        model=LabelIndexEntry,
        shard_partitions=[{"label_key": key} for key in partitions],
        key_names=frozenset({"label_key", "item_id"}),
        order_key=lambda entry: entry.item_id,
    )

    def query_shard(shard: int, start: dict | None, limit: int):
        return LabelIndexEntry.query(partitions[shard], scan_index_forward=False, limit=limit,
                                     last_evaluated_key=start)

    return read_sharded_page(listing, query_shard, page)
