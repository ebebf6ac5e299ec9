"""Points: wallets, the ledger, expert scores, coupon campaigns and issued coupons."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.domain.ids import cause_digest
from chalicelib.domain.sharded_lists import shard_key, shard_of
from chalicelib.models.base import BaseModel, table_meta

STANDING_SHARDS = 4  # partitions of one user's standing awards
LEDGER_SHARDS = 4  # partitions of one user's ledger entries


class Wallet(BaseModel):
    """A user's balance. It always equals the sum of the user's ledger entries."""

    Meta = table_meta("Wallets")
    user_id = UnicodeAttribute(hash_key=True)
    balance = NumberAttribute(default=0)
    lifetime_earned = NumberAttribute(default=0)
    capped_today = MapAttribute(default=dict)  # {"YYYY-MM-DD": points from capped sources}
    revision = NumberAttribute(default=0)  # bumped by every write: the reward engine's optimistic lock


class LedgerEntry(BaseModel):
    """One award, penalty, reversal or spend. `entry_id` is derived from its cause.

    A user's entries spread over `LEDGER_SHARDS` partitions ("{user_id}#{shard}", the shard a hash
    of the entry id): a vote storm on one answer puts 1,000 entries a second in its author's ledger,
    one write unit each, which one partition (1,000 WCU/s) would hold with no room left. The listing
    reads the shards in parallel (`models.sharded`).
    """

    Meta = table_meta("Ledger")
    user_id = UnicodeAttribute(hash_key=True)  # LedgerEntry.partition(user_id, entry_id)
    entry_id = UnicodeAttribute(range_key=True)
    amount = NumberAttribute()
    reason = UnicodeAttribute()
    ref = UnicodeAttribute()
    created_at = UnicodeAttribute()

    @staticmethod
    def partition(user_id: str, entry_id: str) -> str:
        return shard_key(user_id, shard_of(entry_id, LEDGER_SHARDS))

    @staticmethod
    def partitions(user_id: str) -> list[str]:
        """Every shard's partition of a user's ledger, in shard order."""
        return [shard_key(user_id, shard) for shard in range(LEDGER_SHARDS)]


class StandingAward(BaseModel):
    """What one cause's current award actually gave one user, so its reversal takes back exactly that.

    Kept in the Ledger table under the partitions "{user_id}#standing#{shard}" (the cause's shard of
    `STANDING_SHARDS`), apart from the user's entries (so a user's ledger partition holds nothing but
    entries, and a vote storm on one answer spreads its standing writes), and written in the same
    transaction as the wallet.

    A cause's stream records (one vote, mark or answer item) arrive in order: `last_sequence`, the
    last record applied to it, makes the standing its own idempotency marker (a record at or below
    it changes nothing). So a withdrawn award is kept as a tombstone (`stands` false), not deleted.
    `posted` holds the ledger entries that the last write of the standing owes, re-put by a
    redelivery in case the entries' write after the transaction was lost.
    """

    Meta = table_meta("Ledger")
    user_id = UnicodeAttribute(hash_key=True)  # StandingAward.partition(user_id, cause)
    entry_id = UnicodeAttribute(range_key=True)  # the cause: "vote#{answer}#{voter}", ...
    amount = NumberAttribute()
    reason = UnicodeAttribute()
    day = UnicodeAttribute()
    capped = BooleanAttribute(default=False)
    stands = BooleanAttribute(default=True)
    last_sequence = UnicodeAttribute(null=True)  # the last stream record applied (digits)
    posted = ListAttribute(default=list)  # [{entry_id, amount, reason, ref, created_at}]

    @staticmethod
    def partition(user_id: str, cause: str) -> str:
        return f"{user_id}#standing#{cause_digest(cause) % STANDING_SHARDS}"


class LeaderboardIndex(GlobalSecondaryIndex):
    """A label's scores, highest first, sharded by user: `leaderboard_key` is "{label}#{shard}"
    (`domain.leaderboards`), so no one index partition takes every score change of a label."""

    class Meta:
        index_name = "leaderboard"
        projection = AllProjection()

    leaderboard_key = UnicodeAttribute(hash_key=True)
    score = NumberAttribute(range_key=True)


class ExpertScore(BaseModel):
    Meta = table_meta("Experts")
    user_id = UnicodeAttribute(hash_key=True)
    label = UnicodeAttribute(range_key=True)
    score = NumberAttribute(default=0)
    level = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
    level_raised_at = NumberAttribute(null=True)  # ms of the record whose batch raised `level` (its notices' time)
    notified_level = NumberAttribute(null=True)  # the highest level whose `expert_level` notice is written
    leaderboard_key = UnicodeAttribute(null=True)  # domain.leaderboards.leaderboard_key(label, user_id)
    leaderboard = LeaderboardIndex()


class CampaignsByMerchantIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute(range_key=True)


class Campaign(BaseModel):
    """A coupon campaign's terms, and the trailing tally of what its stock shards have sold.

    The stock itself is in `CampaignStock` shards; `sold_by_shard` ({"<shard>": sold}) is kept by
    the `tally_coupon_stock` stream handler and may trail the shards by seconds (`domain.coupons`).
    `used` counts its coupons used at checkout: raised in the same transaction as the coupon's
    issued -> used update, so exactly once per coupon. `ended_at` is set by the merchant's end, after
    every stock shard carries `ended` (the flag each redeem's shard write is conditioned on).
    """

    Meta = table_meta("Campaigns")
    campaign_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    title = UnicodeAttribute()
    discount_cents = NumberAttribute()
    min_spend_cents = NumberAttribute()
    points_cost = NumberAttribute()
    total_quantity = NumberAttribute()
    shard_count = NumberAttribute()
    sold_by_shard = MapAttribute(default=dict)
    per_user_limit = NumberAttribute()
    expires_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    used = NumberAttribute(null=True)
    ended_at = UnicodeAttribute(null=True)
    by_merchant = CampaignsByMerchantIndex()


class CampaignStock(BaseModel):
    """One shard of a campaign's stock, under its own partition key `campaign_id#shard`.

    A redeem takes one coupon from one shard (`remaining - 1` if above 0, in the redeem's
    transaction); `expires_at` is copied from the campaign so that transaction checks the expiry
    without touching the campaign item, and `ended` (set by the merchant's end) for the same reason.
    """

    Meta = table_meta("CampaignStock")
    stock_id = UnicodeAttribute(hash_key=True)  # domain.coupons.shard_key(campaign_id, shard)
    campaign_id = UnicodeAttribute()
    shard = NumberAttribute()
    allotment = NumberAttribute()
    remaining = NumberAttribute()
    expires_at = UnicodeAttribute()
    ended = BooleanAttribute(null=True)


class CouponsByOwnerIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    issued_at = UnicodeAttribute(range_key=True)


class Coupon(BaseModel):
    Meta = table_meta("Coupons")
    coupon_code = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    title = UnicodeAttribute(null=True)
    points_cost = NumberAttribute(default=0)
    status = UnicodeAttribute()  # issued | used
    discount_cents = NumberAttribute()
    min_spend_cents = NumberAttribute()
    expires_at = UnicodeAttribute()
    issued_at = UnicodeAttribute()
    used_at = UnicodeAttribute(null=True)
    by_owner = CouponsByOwnerIndex()


class CouponClaim(BaseModel):
    """How many coupons of one campaign one user holds: the per-user limit's counter.

    Keyed by the user, so a flash sale's redeems write as many partitions as there are shoppers
    (not one partition per campaign).
    """

    Meta = table_meta("UserCouponClaims")
    user_id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute(range_key=True)
    count = NumberAttribute(default=0)
