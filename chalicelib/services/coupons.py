"""Coupon campaigns, redemption with points, and use at checkout.

A redemption is ONE TransactWrite, so no interleaving of requests can oversell a campaign, exceed
a per-user limit or spend points a user does not have:

0. the campaign: `remaining - 1`, if `remaining > 0` and it has not expired;
1. the user's claim counter for the campaign: `count + 1`, if below `per_user_limit`;
2. the coupon, if its (random) code is new;
3. the wallet: `balance - points_cost`, if `balance >= points_cost` (and `revision + 1`, so the
   reward engine's optimistic lock sees the change);
4. the ledger entry of the debit (reason `coupon_redeemed`).

Which labelled conditions failed becomes the 409's Code (`domain.points.refusal`); a lost race
or a code collision is tried again under the one conflict rule, then answered 503 `Busy`. A free
campaign debits nothing: items 3 and 4 become a check that the wallet is not in debt
(`domain.points.can_redeem`: a balance below 0 redeems nothing).
"""

from __future__ import annotations

from chalicelib.auth import Caller
from chalicelib.domain.ids import iso, new_id, now_iso, utc_now
from chalicelib.domain.points import (
    CODE_ALPHABET,
    COUPON_REDEEMED,
    coupon_status,
    new_coupon_code,
    normalise_code,
    refusal,
)
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.models.base import update_if
from chalicelib.models.points import Campaign, Coupon, CouponClaim, LedgerEntry, Wallet
from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict
from chalicelib.pagination import Page, PageRequest
from chalicelib.services.points import new_entry

MAX_ID_LENGTH = 128
CODE_CHARS = frozenset(CODE_ALPHABET)


def campaign_view(campaign: Campaign, now: str | None = None) -> dict:
    now = now or now_iso()
    remaining = int(campaign.remaining)
    return {
        "campaign_id": campaign.campaign_id,
        "merchant_id": campaign.merchant_id,
        "title": campaign.title,
        "discount_cents": int(campaign.discount_cents),
        "min_spend_cents": int(campaign.min_spend_cents),
        "points_cost": int(campaign.points_cost),
        "total_quantity": int(campaign.total_quantity),
        "remaining": remaining,
        "per_user_limit": int(campaign.per_user_limit),
        "expires_at": campaign.expires_at,
        "created_at": campaign.created_at,
        "status": "expired" if campaign.expires_at <= now else ("sold_out" if remaining <= 0 else "active"),
    }


def coupon_view(coupon: Coupon, now: str | None = None) -> dict:
    return {
        "coupon_code": coupon.coupon_code,
        "campaign_id": coupon.campaign_id,
        "merchant_id": coupon.merchant_id,
        "title": coupon.title,
        "discount_cents": int(coupon.discount_cents),
        "min_spend_cents": int(coupon.min_spend_cents),
        "points_cost": int(coupon.points_cost or 0),
        "expires_at": coupon.expires_at,
        "issued_at": coupon.issued_at,
        "used_at": coupon.used_at,
        "status": coupon_status(coupon.status, coupon.expires_at, now or now_iso()),
    }


def create_campaign(merchant: Caller, *, title: str, discount_cents: int, min_spend_cents: int, points_cost: int,
                    total_quantity: int, per_user_limit: int, expires_at) -> dict:
    now = utc_now()
    campaign = Campaign(
        new_id(),
        merchant_id=merchant.user_id,
        title=title,
        discount_cents=discount_cents,
        min_spend_cents=min_spend_cents,
        points_cost=points_cost,
        total_quantity=total_quantity,
        remaining=total_quantity,
        per_user_limit=per_user_limit,
        expires_at=iso(expires_at),
        created_at=iso(now),
    )
    campaign.save(condition=Campaign.campaign_id.does_not_exist())
    return campaign_view(campaign, iso(now))


def list_active_campaigns(merchant_id: str, page: PageRequest) -> Page:
    """Newest first, expired ones left out. Exactly one Query: the first DynamoDB page, filtered."""
    if len(merchant_id) > MAX_ID_LENGTH:
        return Page(items=[], next_cursor=None)
    now = now_iso()
    results = Campaign.by_merchant.query(
        merchant_id,
        filter_condition=Campaign.expires_at > now,
        scan_index_forward=False,
        limit=page.limit,
        last_evaluated_key=page.position,
    )
    raw = next(results.page_iter)
    items = [campaign_view(Campaign.from_raw_data(item), now) for item in raw.get("Items", [])]
    return Page(items=items, next_cursor=page.next_cursor(results.page_iter.last_evaluated_key))


def _get_campaign(campaign_id: str) -> Campaign:
    if len(campaign_id) > MAX_ID_LENGTH:
        raise NotFound(f"No coupon campaign {campaign_id[:MAX_ID_LENGTH]}")
    try:
        return Campaign.get(campaign_id)
    except Campaign.DoesNotExist:
        raise NotFound(f"No coupon campaign {campaign_id}") from None


MESSAGES = {
    "Expired": "This campaign has expired",
    "SoldOut": "This campaign has no coupons left",
    "LimitReached": "You already hold as many of these coupons as a shopper may",
    "InsufficientPoints": "You do not have enough points for this coupon",
}


def redeem(caller: Caller, campaign_id: str) -> dict:
    campaign = _get_campaign(campaign_id)
    if campaign.merchant_id == caller.user_id:
        raise Forbidden("A merchant cannot redeem their own store's coupons")
    if campaign.expires_at <= now_iso():
        raise Conflict(MESSAGES["Expired"], code="Expired")
    cost = int(campaign.points_cost)

    def attempt() -> dict:
        now = utc_now()
        issued_at = iso(now)
        coupon = Coupon(
            new_coupon_code(),
            campaign_id=campaign.campaign_id,
            merchant_id=campaign.merchant_id,
            owner_id=caller.user_id,
            title=campaign.title,
            points_cost=cost,
            status="issued",
            discount_cents=int(campaign.discount_cents),
            min_spend_cents=int(campaign.min_spend_cents),
            expires_at=campaign.expires_at,
            issued_at=issued_at,
        )
        transaction = Transaction()
        transaction.update(
            "campaign",
            Campaign(campaign.campaign_id),
            actions=[Campaign.remaining.add(-1)],
            condition=(Campaign.remaining > 0) & (Campaign.expires_at > issued_at),
        )
        transaction.update(
            "claim",
            CouponClaim(campaign.campaign_id, caller.user_id),
            actions=[CouponClaim.count.add(1)],
            condition=CouponClaim.count.does_not_exist() | (CouponClaim.count < int(campaign.per_user_limit)),
        )
        # the code is random: a collision (of the coupon or of its ledger entry) is tried again
        transaction.put("coupon", coupon, condition=Coupon.coupon_code.does_not_exist(), retry_if_false=True)
        if cost > 0:
            transaction.update(
                "wallet",
                Wallet(caller.user_id),
                actions=[Wallet.balance.add(-cost), Wallet.revision.add(1)],
                condition=Wallet.balance >= cost,
            )
            transaction.put(
                "ledger entry",
                new_entry(caller.user_id, at_ms=int(now.timestamp() * 1000),
                          cause=f"coupon:{coupon.coupon_code}", amount=-cost, reason=COUPON_REDEEMED,
                          ref=campaign.campaign_id),
                condition=LedgerEntry.entry_id.does_not_exist(),
                retry_if_false=True,
            )
        else:  # nothing to pay, but a debt still redeems nothing
            transaction.check("wallet", Wallet, caller.user_id,
                              condition=Wallet.user_id.does_not_exist() | (Wallet.balance >= 0))
        try:
            transaction.commit()
        except TransactionFailed as exc:
            code = _refusal(exc, campaign)
            if code is not None:
                raise Conflict(MESSAGES[code], code=code) from None
            raise
        return coupon_view(coupon, issued_at)

    return retry_on_conflict(attempt, what="this campaign's coupons")


def _refusal(exc: TransactionFailed, campaign: Campaign) -> str | None:
    """The 409 Code of a redemption whose conditions were false, or None if none of them refuses."""
    refused = set()
    if exc.failed_on("campaign"):
        refused.add("Expired" if campaign.expires_at <= now_iso() else "SoldOut")
    if exc.failed_on("claim"):
        refused.add("LimitReached")
    if exc.failed_on("wallet"):
        refused.add("InsufficientPoints")
    return refusal(refused)


def my_coupons(user_id: str, page: PageRequest) -> Page:
    results = Coupon.by_owner.query(user_id, scan_index_forward=False, limit=page.limit,
                                    last_evaluated_key=page.position)
    now = now_iso()
    items = [coupon_view(coupon, now) for coupon in results]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def use_coupon(merchant: Caller, coupon_code: str, order_total_cents: int | None = None) -> dict:
    """Mark a coupon used at checkout: only by the store that issued it, only once, only before expiry."""

    code = normalise_code(coupon_code)
    if not code or not set(code) <= CODE_CHARS:
        raise NotFound("No such coupon")
    try:
        coupon = Coupon.get(code, consistent_read=True)
    except Coupon.DoesNotExist:
        raise NotFound("No such coupon") from None
    if coupon.merchant_id != merchant.user_id:
        raise Forbidden("This coupon was issued by another store")
    now = now_iso()
    _refuse_use(coupon, now)
    if order_total_cents is not None and order_total_cents < int(coupon.min_spend_cents):
        raise Conflict(f"This coupon needs a spend of at least {int(coupon.min_spend_cents)} cents",
                       code="MinimumSpendNotMet")
    if not update_if(coupon, actions=[Coupon.status.set("used"), Coupon.used_at.set(now)],
                     condition=(Coupon.status == "issued") & (Coupon.expires_at > now)):
        coupon.refresh(consistent_read=True)  # used or expired meanwhile: say which
        _refuse_use(coupon, now)
        raise Conflict("This coupon can no longer be used", code="AlreadyUsed")
    return coupon_view(coupon, now)


def _refuse_use(coupon: Coupon, now: str) -> None:
    if coupon.status == "used":
        raise Conflict("This coupon has already been used", code="AlreadyUsed")
    if coupon.expires_at <= now:
        raise Conflict("This coupon has expired", code="Expired")
