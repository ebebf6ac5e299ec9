"""Coupon campaigns, redemption with points, and use at checkout.

A campaign's stock is split over `CampaignStock` shards (sizing and choice: `domain.coupons`). A
redemption is ONE TransactWrite, so no interleaving of requests can oversell a campaign, exceed a
per-user limit or spend points a user does not have:

- "stock": one shard, `remaining - 1`, if `remaining > 0`, the campaign has not expired and the
  shard does not carry `ended` (the merchant's end flags every shard, then the campaign);
- "claim": the user's claim counter for the campaign (keyed by the user): `count + 1`, if below
  `per_user_limit`;
- "coupon": the coupon, if its (random) code is new;
- "wallet": `balance - points_cost`, if `balance >= points_cost` (and `revision + 1`, so the reward
  engine's optimistic lock sees the change);
- "ledger entry": the debit (reason `coupon_redeemed`). Wallet and ledger are left out of a free
  campaign.

The campaign item is read (and kept for `CAMPAIGN_CACHE_SECONDS` in the process, so 10,000 redeems
a second do not all read one item) but never written by a redeem. A shard found empty is
remembered; after `BLIND_MISSES` empty shards, or when every shard is known empty, the redeem reads
every shard (one BatchGetItem per 100) and answers `SoldOut` only if all of them are empty. A claim
or wallet refusal is the 409's Code (`domain.points.refusal`); a lost race or a code collision is
tried again under the one conflict rule, then answered 503 `Busy`. A free campaign debits
nothing: its wallet item becomes a check that the wallet is not in debt (a balance below 0
redeems nothing).

`remaining` is what the campaign's tally says: the `tally_coupon_stock` stream handler folds the
shards' sold counts into it, one update per campaign per batch; it may trail by seconds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.auth import Caller
from chalicelib.domain import coupons as stock
from chalicelib.domain.changes import BatchFailures, Change, per_batch
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
from chalicelib.models.base import batch_get, get_or_404, get_or_none, update_if
from chalicelib.models.points import Campaign, CampaignStock, Coupon, CouponClaim, LedgerEntry, Wallet
from chalicelib.models.transactions import ATTEMPTS, Transaction, TransactionFailed, retry_on_conflict
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models
from chalicelib.services.points import new_entry

if TYPE_CHECKING:
    from chalicelib.schemas.points import CampaignOut, CouponLookupOut, CouponOut
else:
    (
        CampaignOut, CouponLookupOut, CouponOut,
    ) = lazy_models(
        "chalicelib.schemas.points",
        "CampaignOut", "CouponLookupOut", "CouponOut",
    )

MAX_ID_LENGTH = 128
CODE_CHARS = frozenset(CODE_ALPHABET)
CAMPAIGN_CACHE_SECONDS = 1.0
CAMPAIGN_CACHE_SIZE = 512
#: DynamoDB allows 4 KB of condition expression: 32 shards' "not there, or below" take about 1.5 KB.
TALLY_SHARDS_PER_UPDATE = 32
STOCK_READS_PER_ATTEMPT = 2  # reads of every shard one attempt may make before it counts as a lost race

_random = random.Random()


def campaign_view(campaign: Campaign, now: str | None = None) -> CampaignOut:
    now = now or now_iso()
    remaining = stock.remaining(int(campaign.total_quantity), _sold(campaign))
    return CampaignOut(
        campaign_id=campaign.campaign_id,
        merchant_id=campaign.merchant_id,
        title=campaign.title,
        discount_cents=int(campaign.discount_cents),
        min_spend_cents=int(campaign.min_spend_cents),
        points_cost=int(campaign.points_cost),
        total_quantity=int(campaign.total_quantity),
        remaining=remaining,
        per_user_limit=int(campaign.per_user_limit),
        expires_at=campaign.expires_at,
        created_at=campaign.created_at,
        status=campaign_status(campaign, remaining, now),
        redeemed=int(campaign.total_quantity) - remaining,
        used=int(campaign.used or 0),
    )


def campaign_status(campaign: Campaign, remaining: int, now: str) -> str:
    """ended (the merchant's act) before expired, before sold_out; else active."""
    if campaign.ended_at:
        return "ended"
    if campaign.expires_at <= now:
        return "expired"
    return "sold_out" if remaining <= 0 else "active"


def _sold(campaign: Campaign) -> dict[str, int]:
    tally = campaign.sold_by_shard
    return {shard: int(sold) for shard, sold in (tally.as_dict() if tally is not None else {}).items()}


def coupon_view(coupon: Coupon, now: str | None = None) -> CouponOut:
    return CouponOut(
        coupon_code=coupon.coupon_code,
        campaign_id=coupon.campaign_id,
        merchant_id=coupon.merchant_id,
        title=coupon.title,
        discount_cents=int(coupon.discount_cents),
        min_spend_cents=int(coupon.min_spend_cents),
        points_cost=int(coupon.points_cost or 0),
        expires_at=coupon.expires_at,
        issued_at=coupon.issued_at,
        used_at=coupon.used_at,
        status=coupon_status(coupon.status, coupon.expires_at, now or now_iso()),
    )


def create_campaign(merchant: Caller, *, title: str, discount_cents: int, min_spend_cents: int, points_cost: int,
                    total_quantity: int, per_user_limit: int, expires_at) -> CampaignOut:
    """The stock shards first, then the campaign: a campaign anyone can see always has its stock."""
    now = utc_now()
    campaign = Campaign(
        new_id(),
        merchant_id=merchant.user_id,
        title=title,
        discount_cents=discount_cents,
        min_spend_cents=min_spend_cents,
        points_cost=points_cost,
        total_quantity=total_quantity,
        shard_count=stock.shard_count(total_quantity),
        sold_by_shard={},
        per_user_limit=per_user_limit,
        expires_at=iso(expires_at),
        created_at=iso(now),
    )
    with CampaignStock.batch_write() as batch:
        for shard, allotment in enumerate(stock.allotments(total_quantity, int(campaign.shard_count))):
            batch.save(CampaignStock(stock.shard_key(campaign.campaign_id, shard), campaign_id=campaign.campaign_id,
                                     shard=shard, allotment=allotment, remaining=allotment,
                                     expires_at=campaign.expires_at))
    campaign.save(condition=Campaign.campaign_id.does_not_exist())
    return campaign_view(campaign, iso(now))


def list_active_campaigns(merchant_id: str, page: PageRequest) -> Page:
    """Newest first, expired ones left out. Exactly one Query: the first DynamoDB page, filtered."""
    from chalicelib.services.merchants import get_store

    if len(merchant_id) > MAX_ID_LENGTH:
        raise NotFound(f"No merchant {merchant_id[:MAX_ID_LENGTH]}")
    now = now_iso()
    results = Campaign.by_merchant.query(
        merchant_id,
        filter_condition=(Campaign.expires_at > now) & Campaign.ended_at.does_not_exist(),
        scan_index_forward=False,
        limit=page.limit,
        last_evaluated_key=page.start_key(Campaign.by_merchant, merchant_id),
    )
    raw = next(results.page_iter)
    items = [campaign_view(Campaign.from_raw_data(item), now) for item in raw.get("Items", [])]
    if not raw.get("Items") and not raw.get("LastEvaluatedKey") and page.position is None:
        get_store(merchant_id)  # 404 for an unknown store; read only when it has no campaign at all
    return Page(items=items, next_cursor=page.next_cursor(results.page_iter.last_evaluated_key))


# -- the campaigns a process has read, and the shards it knows are empty ---------------------------
@dataclass
class _Known:
    campaign: Campaign
    read_at: float
    empty: set[int] = field(default_factory=set)


class CampaignCache:
    """Campaign items read in the last `CAMPAIGN_CACHE_SECONDS`, and each one's known-empty shards.

    A campaign's terms never change once created, and what it says of its stock only ever trails
    the shards (a shard that was empty stays empty), so a second-old copy is safe to act on: the
    transaction's conditions on the shard decide. Empty shards found by this process are kept
    across re-reads, for the same reason.
    """

    def __init__(self, seconds: float = CAMPAIGN_CACHE_SECONDS, size: int = CAMPAIGN_CACHE_SIZE):
        self.seconds, self.size = seconds, size
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()

    def get(self, campaign_id: str) -> tuple[Campaign, frozenset[int]]:
        with self._lock:
            known = self._known.get(campaign_id)
        if known is None or time.monotonic() - known.read_at > self.seconds:
            campaign = _read_campaign(campaign_id)
            tallied = stock.empty_shards(int(campaign.total_quantity), int(campaign.shard_count), _sold(campaign))
            with self._lock:
                if len(self._known) >= self.size:
                    self._known.pop(next(iter(self._known)))
                previous = self._known.get(campaign_id)
                known = _Known(campaign, time.monotonic(), tallied | (previous.empty if previous else set()))
                self._known[campaign_id] = known
        with self._lock:
            return known.campaign, frozenset(known.empty)

    def mark_empty(self, campaign_id: str, shards: Iterable[int]) -> frozenset[int]:
        with self._lock:
            known = self._known.get(campaign_id)
            if known is None:
                return frozenset(shards)
            known.empty.update(shards)
            return frozenset(known.empty)

    def forget(self, campaign_id: str) -> None:
        """Drop one campaign, so this process's next redeem reads it again (an end it made itself)."""
        with self._lock:
            self._known.pop(campaign_id, None)

    def clear(self) -> None:
        with self._lock:
            self._known.clear()


campaigns = CampaignCache()


def _read_campaign(campaign_id: str) -> Campaign:
    if len(campaign_id) > MAX_ID_LENGTH:
        raise NotFound(f"No coupon campaign {campaign_id[:MAX_ID_LENGTH]}")
    return get_or_404(Campaign, campaign_id, what="coupon campaign")


MESSAGES = {
    "Expired": "This campaign has expired",
    "SoldOut": "This campaign has no coupons left",
    "LimitReached": "You already hold as many of these coupons as a shopper may",
    "InsufficientPoints": "You do not have enough points for this coupon",
    "Ended": "The store has ended this campaign",
}


def _refuse(code: str) -> Conflict:
    return Conflict(MESSAGES[code], code=code)


def redeem(caller: Caller, campaign_id: str) -> CouponOut:
    campaign, empty = campaigns.get(campaign_id)
    if campaign.merchant_id == caller.user_id:
        raise Forbidden("A merchant cannot redeem their own store's coupons")
    if campaign.ended_at:
        raise _refuse("Ended")
    if campaign.expires_at <= now_iso():
        raise _refuse("Expired")
    shards = int(campaign.shard_count)
    if len(empty) >= shards:
        raise _refuse("SoldOut")  # the tally has seen every shard sell out: final, whatever its age

    def attempt() -> CouponOut:
        known_empty, misses, reads = empty, 0, 0
        while True:
            shard = stock.choose_shard(shards, known_empty, _random) if misses < stock.BLIND_MISSES else None
            if shard is None:
                if reads == STOCK_READS_PER_ATTEMPT:
                    raise TransactionFailed(frozenset(), True, frozenset())  # others keep emptying the shards
                known_empty = campaigns.mark_empty(campaign_id, _empty_shards(campaign))
                if len(known_empty) >= shards:
                    raise _refuse("SoldOut")  # and this process remembers it: its next redeems read nothing
                misses, reads = 0, reads + 1
                continue
            try:
                return _take_coupon(caller, campaign, shard)
            except TransactionFailed as exc:
                code = refusal({code for label, code in (("claim", "LimitReached"), ("wallet", "InsufficientPoints"))
                                if exc.failed_on(label)})
                if code is not None:
                    raise _refuse(code) from None
                if not exc.failed_on("stock"):
                    raise  # a lost race or a code collision: the retry rule runs the attempt again
                if campaign.expires_at <= now_iso():
                    raise _refuse("Expired") from None
                known_empty = campaigns.mark_empty(campaign_id, [shard])
                misses += 1

    return retry_on_conflict(attempt, what="this campaign's coupons")


def _empty_shards(campaign: Campaign) -> set[int]:
    """Read every shard (eventually consistent is enough: stock only falls, so a shard read empty
    is empty): the empty ones; `Expired` if the shards say so."""
    shards = int(campaign.shard_count)
    found: list[Any] = batch_get(
        [(CampaignStock, stock.shard_key(campaign.campaign_id, shard), None) for shard in range(shards)]
    )
    now = now_iso()
    if any(item is not None and item.ended for item in found):
        raise _refuse("Ended")
    if any(item is not None and item.expires_at <= now for item in found):
        raise _refuse("Expired")
    return {shard for shard, item in enumerate(found) if item is None or int(item.remaining) <= 0}


def _take_coupon(caller: Caller, campaign: Campaign, shard: int) -> CouponOut:
    """One redemption from one shard, as one transaction; `TransactionFailed` names what refused it."""
    cost = int(campaign.points_cost)
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
        "stock",
        CampaignStock(stock.shard_key(campaign.campaign_id, shard)),
        actions=[CampaignStock.remaining.add(-1)],
        condition=(CampaignStock.remaining > 0) & (CampaignStock.expires_at > issued_at)
        & CampaignStock.ended.does_not_exist(),
    )
    transaction.update(
        "claim",
        CouponClaim(caller.user_id, campaign.campaign_id),
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
    transaction.commit()
    return coupon_view(coupon, issued_at)


# -- the tally (stream effect of CampaignStock) ------------------------------------------------
def stock_sold(change: Change) -> tuple[str, int, int] | None:
    """(campaign, shard, coupons sold) from a stock item's new image; None for a removal."""
    image = change.new
    if not image:
        return None
    return image["campaign_id"], int(image["shard"]), int(image["allotment"]) - int(image["remaining"])


@per_batch
def tally_coupon_stock(changes: Sequence[Change]) -> BatchFailures:
    """CampaignStock stream, per batch: what the shards have sold, folded into their campaigns' tallies
    (`tally_stock`: one write per campaign per batch); the records of a campaign whose tally failed."""
    sold = {change.sequence_number: seen for change in changes if (seen := stock_sold(change)) is not None}
    failed = tally_stock(sold.values())
    return {sequence: failed[campaign_id] for sequence, (campaign_id, _, _) in sold.items() if campaign_id in failed}


def tally_stock(sold: Iterable[tuple[str, int, int]]) -> dict[str, Exception]:
    """Fold what stock shards have sold (campaign, shard, sold) into their campaigns' tallies.

    One conditional update per campaign (each shard's count only rises: the condition is that it
    rises), so a batch costs one write per campaign it touches (one per `TALLY_SHARDS_PER_UPDATE`
    shards, when a batch touches more). A replayed record makes the condition false: then the
    campaign is read and only counts that still rise are written, so replays change nothing.
    Returns the campaigns whose tally could not be written, with why.
    """
    failed: dict[str, Exception] = {}
    for campaign_id, seen in stock.sold_by_shard(sold).items():
        shards = sorted(seen)
        try:
            for start in range(0, len(shards), TALLY_SHARDS_PER_UPDATE):
                chunk = shards[start:start + TALLY_SHARDS_PER_UPDATE]
                _raise_tally(campaign_id, {shard: seen[shard] for shard in chunk})
        except Exception as exc:  # reported per campaign: the others' records are not redelivered for it
            failed[campaign_id] = exc
    return failed


def tally_update(rises: dict[int, int]) -> tuple[list, object]:
    """The actions and condition that raise the tally of each shard in `rises`, only if it rises."""
    condition = Campaign.campaign_id.exists()
    actions = []
    for shard, sold in sorted(rises.items()):
        path = Campaign.sold_by_shard[str(shard)]
        condition &= path.does_not_exist() | (path < sold)
        actions.append(path.set(sold))
    return actions, condition


def _raise_tally(campaign_id: str, seen: dict[int, int]) -> None:
    rises = dict(seen)
    for _ in range(ATTEMPTS):
        if not rises:
            return
        actions, condition = tally_update(rises)
        if update_if(Campaign(campaign_id), actions=actions, condition=condition):
            return
        campaign = get_or_none(Campaign, campaign_id, consistent_read=True)
        if campaign is None:
            return  # no such campaign (any more): nothing to tally
        rises = stock.raises(_sold(campaign), seen)
    raise RuntimeError(f"the tally of campaign {campaign_id} kept changing under its update")


def my_coupons(user_id: str, page: PageRequest) -> Page:
    results = Coupon.by_owner.query(user_id, scan_index_forward=False, limit=page.limit,
                                    last_evaluated_key=page.start_key(Coupon.by_owner, user_id))
    now = now_iso()
    items = [coupon_view(coupon, now) for coupon in results]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def use_coupon(merchant: Caller, coupon_code: str, order_total_cents: int | None = None) -> CouponOut:
    """Mark a coupon used at checkout: only by the store that issued it, only once, only before expiry."""

    code = normalise_code(coupon_code)
    if not code or not set(code) <= CODE_CHARS:
        raise NotFound("No such coupon")
    coupon = get_or_none(Coupon, code, consistent_read=True)
    if coupon is None:
        raise NotFound("No such coupon")
    if coupon.merchant_id != merchant.user_id:
        raise Forbidden("This coupon was issued by another store")
    now = now_iso()
    _refuse_use(coupon, now)
    if order_total_cents is not None and order_total_cents < int(coupon.min_spend_cents):
        raise Conflict(f"This coupon needs a spend of at least {int(coupon.min_spend_cents)} cents",
                       code="MinimumSpendNotMet")
    try:
        retry_on_conflict(lambda: _mark_used(coupon, now), what="this coupon's campaign")
    except TransactionFailed as exc:
        if not exc.failed_on("coupon"):
            raise
        coupon.refresh(consistent_read=True)  # used or expired meanwhile: say which
        _refuse_use(coupon, now)
        raise Conflict("This coupon can no longer be used", code="AlreadyUsed") from None
    coupon.status, coupon.used_at = "used", now
    return coupon_view(coupon, now)


def _mark_used(coupon: Coupon, now: str) -> None:
    """issued -> used and the campaign's `used` + 1, as one transaction: the counter moves exactly once
    per coupon, because only the write that moves the coupon out of `issued` can commit."""
    transaction = Transaction()
    transaction.update("coupon", Coupon(coupon.coupon_code),
                       actions=[Coupon.status.set("used"), Coupon.used_at.set(now)],
                       condition=(Coupon.status == "issued") & (Coupon.expires_at > now))
    transaction.update("campaign", Campaign(coupon.campaign_id), actions=[Campaign.used.add(1)],
                       condition=Campaign.campaign_id.exists())
    try:
        transaction.commit()
    except TransactionFailed as exc:
        if exc.failed_on("campaign") and not exc.failed_on("coupon"):
            # the campaign is gone (never in this service's life): use the coupon without a count
            if not update_if(Coupon(coupon.coupon_code), actions=[Coupon.status.set("used"), Coupon.used_at.set(now)],
                             condition=(Coupon.status == "issued") & (Coupon.expires_at > now)):
                raise TransactionFailed(frozenset({"coupon"}), False, frozenset()) from None
            return
        raise


def _refuse_use(coupon: Coupon, now: str) -> None:
    if coupon.status == "used":
        raise Conflict("This coupon has already been used", code="AlreadyUsed")
    if coupon.expires_at <= now:
        raise Conflict("This coupon has expired", code="Expired")


# -- the merchant's own tools ------------------------------------------------------------------
CAMPAIGN_STATUSES = ("active", "sold_out", "expired", "ended")
ENDS_PER_TRANSACTION = 100  # DynamoDB's TransactWriteItems limit


def my_campaigns(merchant: Caller, status: str, page: PageRequest) -> Page:
    """The caller's campaigns of one status, newest first: ONE Query of `by_merchant`.

    What DynamoDB can filter (ended, expiry) is filtered there; `sold_out` vs `active` depends on the
    stock tally (a map of shard counts), so it is filtered on the page read. Either way a page may
    hold fewer than `limit` items (even none) while `next_cursor` says there are more.
    """
    now = now_iso()
    conditions = {
        "ended": Campaign.ended_at.exists(),
        "expired": Campaign.ended_at.does_not_exist() & (Campaign.expires_at <= now),
        "active": Campaign.ended_at.does_not_exist() & (Campaign.expires_at > now),
        "sold_out": Campaign.ended_at.does_not_exist() & (Campaign.expires_at > now),
    }
    results = Campaign.by_merchant.query(
        merchant.user_id,
        filter_condition=conditions[status],
        scan_index_forward=False,
        limit=page.limit,
        last_evaluated_key=page.start_key(Campaign.by_merchant, merchant.user_id),
    )
    raw = next(results.page_iter)
    views = [campaign_view(Campaign.from_raw_data(item), now) for item in raw.get("Items", [])]
    return Page(items=[view for view in views if view.status == status],
                next_cursor=page.next_cursor(results.page_iter.last_evaluated_key))


def own_campaign(merchant: Caller, campaign_id: str) -> Campaign:
    """The caller's store's campaign: 404 when there is none, 403 when it is another store's."""
    campaign = _read_campaign(campaign_id)
    if campaign.merchant_id != merchant.user_id:
        raise Forbidden("This campaign belongs to another store")
    return campaign


def end_campaign(merchant: Caller, campaign_id: str) -> CampaignOut:
    """Stop redemptions; coupons already issued stay valid. Idempotent.

    A redeem's transaction writes one stock shard and never the campaign, so the end flags every
    shard (`ended`, which that write is conditioned on) in transactions of up to 100 shards, and only
    then records `ended_at` on the campaign. A redeem racing the end can only win on a shard not yet
    flagged, that is before the end is recorded; from then on every shard refuses.
    """
    campaign = own_campaign(merchant, campaign_id)
    shards = int(campaign.shard_count)
    for start in range(0, shards, ENDS_PER_TRANSACTION):
        transaction = Transaction()
        for shard in range(start, min(start + ENDS_PER_TRANSACTION, shards)):
            transaction.update("stock", CampaignStock(stock.shard_key(campaign_id, shard)),
                               actions=[CampaignStock.ended.set(True)])
        retry_on_conflict(transaction.commit, what="this campaign's stock")
    now = now_iso()
    campaign.update(actions=[Campaign.ended_at.set(Campaign.ended_at | now)])
    campaigns.forget(campaign_id)
    return campaign_view(campaign, now)


def lookup_coupon(merchant: Caller, coupon_code: str) -> CouponLookupOut:
    """A coupon of the caller's store, as it stands, without using it; another store's is 404 too,
    so a code cannot be probed for which store issued it."""
    from chalicelib.services.cards import user_cards

    code = normalise_code(coupon_code)
    coupon = get_or_none(Coupon, code, consistent_read=True) if code and set(code) <= CODE_CHARS else None
    if coupon is None or coupon.merchant_id != merchant.user_id:
        raise NotFound("No such coupon")
    view = coupon_view(coupon)
    return CouponLookupOut(
        coupon_code=view.coupon_code, campaign_id=view.campaign_id, status=view.status, title=view.title,
        discount_cents=view.discount_cents, min_spend_cents=view.min_spend_cents, expires_at=view.expires_at,
        issued_at=view.issued_at, used_at=view.used_at,
        owner=user_cards([coupon.owner_id]).get(coupon.owner_id),
    )
