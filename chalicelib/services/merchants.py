"""Merchant profiles: a store per member of the `merchants` group, keyed by its owner's user id."""

from __future__ import annotations

from chalicelib.auth import Caller
from chalicelib.domain.ids import now_iso
from chalicelib.errors import NotFound
from chalicelib.models.base import get_or_404
from chalicelib.models.merchants import Merchant
from chalicelib.schemas.merchants import MerchantOut


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
