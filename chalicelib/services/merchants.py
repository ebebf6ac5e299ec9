"""Merchant profiles: a store per member of the `merchants` group, keyed by its owner's user id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain.ids import now_iso
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models.base import get_or_404
from chalicelib.models.merchants import Merchant
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.merchants import MerchantOut
else:
    MerchantOut, = lazy_models("chalicelib.schemas.merchants", "MerchantOut")


def merchant_view(merchant: Merchant) -> MerchantOut:
    """The `GET /merchants/{merchant_id}` shape."""
    return MerchantOut(
        merchant_id=merchant.merchant_id,
        store_name=merchant.store_name or "",
        description=merchant.description or "",
        labels=list(merchant.labels or []),
        tier=merchant.tier,
        badge=merchant.badge,
        judge_count=int(merchant.judge_count or 0),
        mean_score=float(merchant.mean_score) if merchant.mean_score is not None else None,
        created_at=merchant.created_at,
        updated_at=merchant.updated_at,
    )


def put_my_store(caller: Caller, store_name: str, description: str, labels: list[str]) -> MerchantOut:
    """Create or replace the caller's store profile in one UpdateItem, leaving the panel's fields alone."""
    now = now_iso()
    merchant = Merchant(caller.user_id)
    merchant.update(
        actions=[
            Merchant.store_name.set(store_name),
            Merchant.description.set(description),
            Merchant.labels.set(list(labels)),
            Merchant.judge_count.set(Merchant.judge_count | 0),
            Merchant.created_at.set(Merchant.created_at | now),
            Merchant.updated_at.set(now),
        ]
    )
    return merchant_view(merchant)


def get_store(merchant_id: str) -> Merchant:
    merchant = get_or_404(Merchant, merchant_id, what="merchant")
    if not merchant.store_name:
        raise NotFound(f"No merchant {merchant_id}")
    return merchant


def get_merchant(merchant_id: str) -> MerchantOut:
    return merchant_view(get_store(merchant_id))


def standings(merchant_ids: list[str]) -> dict[str, Merchant]:
    """The stores of several merchants in one BatchGetItem (at most 100 ids), by id."""
    from chalicelib.models.base import batch_get

    unique = list(dict.fromkeys(merchant_ids))
    if not unique:
        return {}
    found = batch_get([(Merchant, merchant_id, None) for merchant_id in unique])
    return {merchant.merchant_id: merchant for merchant in found if merchant is not None}


def directory(label: str | None, tier: str | None, page: PageRequest) -> Page:
    """The store directory: rated stores first, highest tier first, then newest; optionally of one
    label and one tier. ONE Query of the label's directory list (`StoreListing`), then ONE
    BatchGetItem of the page's stores, so the views show each store as it is now."""
    from chalicelib.domain.label_lists import store_list_key, tier_prefix
    from chalicelib.domain.labels import LABEL_IDS
    from chalicelib.domain.tiers import TIER_NAMES
    from chalicelib.models.merchants import StoreListing

    if label is not None and label not in LABEL_IDS:
        raise BadRequest(f"label: unknown label {label!r}; see GET /labels")
    if tier is not None and tier not in TIER_NAMES:
        raise BadRequest(f"tier: one of {', '.join(TIER_NAMES)}")
    key = store_list_key(label)
    results = StoreListing.query(
        key,
        range_key_condition=StoreListing.item_id.startswith(tier_prefix(tier)) if tier else None,
        scan_index_forward=False,
        limit=page.limit,
        last_evaluated_key=page.start_key(StoreListing, key),
    )
    entries = list(results)
    found = standings([entry.merchant_id for entry in entries])
    items = [merchant_view(found[entry.merchant_id]) for entry in entries if entry.merchant_id in found]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))
