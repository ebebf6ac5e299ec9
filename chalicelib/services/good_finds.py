"""Good Finds: rated merchants' products, by label, higher tier first and then newest.

The index (GoodFinds table) holds one entry per product per label plus one under "*" (all
products), keyed `rank_key` = tier rank, creation time, product id. Stream handlers keep it in step
with its sources, and every one of them *converges* on what the sources say now (the store read
consistently, the product read consistently) instead of replaying what a record says, so a
redelivered or late record changes nothing:

- `index_product` (Products stream): a product added, changed or removed;
- `reindex_merchant` (Merchants stream): a store's tier changed, so all its entries move. A large
  store does not fit in one invocation, so this starts a resumable job (`services.jobs`, one per
  store): its steps write the entries of `REINDEX_PAGE_SIZE` products at the store's current tier,
  then sweep the store's entries `SWEEP_PAGE_SIZE` at a time, deleting those at another tier. A
  newer tier change (a later stream record) restarts the job, and the older one stops.

The two can race (a product added while its store changes tier). Reads therefore check each
entry's tier against the store's current one (the page's one BatchGetItem) and skip any mismatch,
and the product handler re-reads the store after writing, so neither an old tier nor a lost
entry survives a race.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain.changes import Change
from chalicelib.domain.tiers import (
    ALL_LABELS,
    good_find_labels,
    good_find_rank_key,
    merge_ranked,
    possible_rank_keys,
    rank_of_key,
    tier_rank,
)
from chalicelib.models.advice import Product
from chalicelib.models.base import get_or_none
from chalicelib.models.jobs import Job
from chalicelib.models.merchants import GoodFind, Merchant
from chalicelib.pagination import MAX_KEY_VALUE_LENGTH, Page, PageRequest
from chalicelib.schemas import lazy_models
from chalicelib.services import jobs

if TYPE_CHECKING:
    from chalicelib.schemas.merchants import GoodFindOut
else:
    GoodFindOut, = lazy_models("chalicelib.schemas.merchants", "GoodFindOut")

Key = tuple[str, str]  # (label, rank_key)

REINDEX_JOB = "good-finds-reindex"
REINDEX_PAGE_SIZE = 100  # products per step: at most 700 entries (6 labels and "*"), 28 BatchWriteItem calls
SWEEP_PAGE_SIZE = 1000  # index entries (keys only) checked per sweep step
PRODUCTS, SWEEP = "products", "sweep"  # a re-index's phases


def _get(model, hash_key: str):
    return get_or_none(model, hash_key, consistent_read=True)


def entries_for(product: Product, merchant: Merchant | None) -> list[GoodFind]:
    """What the index should hold for one product: nothing unless its store has a tier."""
    if merchant is None or not merchant.tier or not product.created_at:
        return []
    rank_key = good_find_rank_key(merchant.tier, product.created_at, product.product_id)
    return [
        GoodFind(
            label,
            rank_key,
            merchant_id=product.merchant_id,
            product_id=product.product_id,
            tier=merchant.tier,
            created_at=product.created_at,
            title=product.title,
            price_cents=int(product.price_cents),
            image_url=product.image_url,
            labels=list(product.labels or []),
        )
        for label in good_find_labels(product.labels or [])
    ]


def _write(desired: Iterable[GoodFind], stale: Iterable[Key]) -> None:
    """Puts and deletes through BatchWriteItem (PynamoDB sends them 25 at a time)."""
    desired = list(desired)
    keep = {(entry.label, entry.rank_key) for entry in desired}
    stale = [key for key in stale if key not in keep]
    if not desired and not stale:
        return
    with GoodFind.batch_write() as batch:
        for entry in desired:
            batch.save(entry)
        for label, rank_key in stale:
            batch.delete(GoodFind(label, rank_key))


def _possible_keys(product_id: str, images: Iterable[dict]) -> set[Key]:
    """Every key any of these versions of a product could have been indexed under, at any tier."""
    keys: set[Key] = set()
    for image in images:
        created_at = image.get("created_at")
        if not created_at:
            continue
        for label in good_find_labels(image.get("labels") or []):
            keys.update((label, rank_key) for rank_key in possible_rank_keys(created_at, product_id))
    return keys


def sync_product(product_id: str, images: list[dict], *, new: bool) -> None:
    """Bring one product's entries in line with the product and its store as they are now.

    A new product can only have entries we write here (or ones a store re-index wrote, which that
    re-index keeps right), so nothing is deleted blindly for it; a changed or removed one has its
    entries under every label and tier it may have had deleted (at most 6 labels x 4 tiers).
    """
    written: set[Key] = set()
    stale = set() if new else _possible_keys(product_id, images)
    for _ in range(3):
        product = _get(Product, product_id)
        merchant = _get(Merchant, product.merchant_id) if product is not None else None
        desired = entries_for(product, merchant) if product is not None else []
        if product is not None and not new:
            stale |= _possible_keys(product_id, [product.attribute_values])
        _write(desired, stale | written)
        written = {(entry.label, entry.rank_key) for entry in desired}
        if merchant is None:
            return
        # the store may have changed tier while we wrote; if so, its re-index may have missed this product
        now = _get(Merchant, merchant.merchant_id)
        if now is None or now.tier == merchant.tier:
            return
    raise RuntimeError(f"store of product {product_id} kept changing tier; retry the record")


def index_product(change: Change) -> None:
    """Products stream effect."""
    product_id = change.keys.get("product_id") or change.item.get("product_id")
    if not product_id:
        return
    images = [image for image in (change.old, change.new) if image]
    sync_product(product_id, images, new=change.kind == "INSERT")


def reindex_job_id(merchant_id: str) -> str:
    return f"{REINDEX_JOB}#{merchant_id}"


def store_to_reindex(change: Change) -> str | None:
    """The store whose entries move: its tier was gained, changed or lost, or the store is gone."""
    if change.kind == "REMOVE" or change.changed("tier"):
        return change.keys.get("merchant_id") or change.item["merchant_id"]
    return None


def reindex_merchant(change: Change) -> None:
    """Merchants stream effect: a tier gained, changed or lost moves all that store's entries.

    Starts (or restarts) the store's re-index job. The record's sequence number orders tier
    changes of one store (its records share a shard), so a replayed older record changes nothing
    and a newer one supersedes a job still running.
    """
    merchant_id = store_to_reindex(change)
    if merchant_id:
        jobs.start(reindex_job_id(merchant_id), REINDEX_JOB, merchant_id, phase=PRODUCTS,
                   generation=jobs.generation_of(change.sequence_number), supersede=True)


def run_reindex_step(job: Job) -> jobs.StepResult:
    """One step of a store's re-index, against the store's tier as it is now (read consistently).

    PRODUCTS: the next `REINDEX_PAGE_SIZE` products (Products' by_merchant index) get their entries
    at the current tier (nothing without a tier). SWEEP: the next `SWEEP_PAGE_SIZE` of the store's
    entries (GoodFinds' by_merchant index, keys only); those at another tier are deleted. Both are
    idempotent, so a redone step rewrites the same items.
    """
    merchant_id = job.subject
    merchant = _get(Merchant, merchant_id)
    tier = merchant.tier if merchant is not None else None
    position = jobs.cursor_of(job)
    if job.phase == PRODUCTS:
        if not tier:
            return jobs.StepResult(processed=0, phase=SWEEP)
        page = Product.by_merchant.query(merchant_id, limit=REINDEX_PAGE_SIZE, last_evaluated_key=position)
        products = list(page)
        _write([entry for product in products for entry in entries_for(product, merchant)], ())
        following = page.last_evaluated_key
        return jobs.StepResult(processed=len(products), phase=PRODUCTS if following else SWEEP, cursor=following)
    page = GoodFind.by_merchant.query(merchant_id, limit=SWEEP_PAGE_SIZE, last_evaluated_key=position)
    keep = tier_rank(tier)
    stale = [(entry.label, entry.rank_key) for entry in page if rank_of_key(entry.rank_key) != keep]
    _write((), stale)
    following = page.last_evaluated_key
    return jobs.StepResult(processed=len(stale), phase=SWEEP, cursor=following, done=following is None)


def list_good_finds(caller: Caller, page: PageRequest) -> Page:
    """The caller's Good Finds: one Query per profile label (one of "*" without labels), merged.

    The cursor holds the last `rank_key` shown; rank keys are unique per product and the same in
    every label, so each label's Query resumes just below it. A product under several of the
    caller's labels is shown once.
    """
    from chalicelib.models.users import UserProfile
    from chalicelib.services.cards import read_cards

    profile = _get_profile(caller.user_id, UserProfile)
    labels = list(dict.fromkeys(profile.labels or [])) if profile is not None else []
    after = (page.position or {}).get("after")
    if page.position is not None and not (isinstance(after, str) and 0 < len(after) <= MAX_KEY_VALUE_LENGTH):
        from chalicelib.errors import BadRequest

        raise BadRequest("cursor: not a cursor this service issued")
    condition = GoodFind.rank_key < after if after else None
    per_label = []
    for label in labels or [ALL_LABELS]:
        results = GoodFind.query(label, range_key_condition=condition, scan_index_forward=False,
                                 limit=page.limit + 1)
        per_label.append([_entry_dict(entry) for entry in results])
    entries, more = merge_ranked(per_label, page.limit)
    # the products' cards and their stores' standings: one BatchGetItem (the entries name the stores)
    cards = read_cards(product_ids=[entry["product_id"] for entry in entries],
                       merchant_of={entry["product_id"]: entry["merchant_id"] for entry in entries})
    items, shown = [], set()
    for entry in entries:
        store = cards.stores.get(entry["merchant_id"])
        if store is None or not store.tier or store.tier != entry["tier"] or entry["product_id"] in shown:
            continue  # the store's tier moved and the index has not caught up yet
        product = cards.products[entry["product_id"]]
        if not product.available:
            continue  # deleted: the Products stream is taking it out of the index
        shown.add(entry["product_id"])
        items.append(GoodFindOut(
            product_id=entry["product_id"], title=entry["title"], price_cents=entry["price_cents"],
            image_url=entry["image_url"], labels=entry["labels"], merchant_id=entry["merchant_id"],
            store_name=store.store_name or "", tier=store.tier, badge=store.badge,
            created_at=entry["created_at"], product=product,
        ))
    next_cursor = page.next_cursor({"after": entries[-1]["rank_key"]}) if more and entries else None
    return Page(items=items, next_cursor=next_cursor)


def _get_profile(user_id: str, model):
    return get_or_none(model, user_id, attributes_to_get=["labels"])


def _entry_dict(entry: GoodFind) -> dict:
    return {
        "rank_key": entry.rank_key,
        "product_id": entry.product_id,
        "merchant_id": entry.merchant_id,
        "tier": entry.tier,
        "created_at": entry.created_at,
        "title": entry.title or "",
        "price_cents": int(entry.price_cents or 0),
        "image_url": entry.image_url,
        "labels": list(entry.labels or []),
    }
