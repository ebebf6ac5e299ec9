"""Merchants, the judges' scores, and the Good Finds index."""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.models.base import BaseModel, table_meta


class Merchant(BaseModel):
    """A store; `merchant_id` is its owner's user id. Tier fields are kept by the ratings handler.

    `ratings_version` moves with every score, in the same transaction as the score, so the ratings
    handler can write a standing only if no score landed since it read them (optimistic locking).
    """

    Meta = table_meta("Merchants")
    merchant_id = UnicodeAttribute(hash_key=True)
    store_name = UnicodeAttribute(null=True)
    description = UnicodeAttribute(default="")
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    tier = UnicodeAttribute(null=True)
    badge = UnicodeAttribute(null=True)
    judge_count = NumberAttribute(default=0)
    mean_score = NumberAttribute(null=True)
    ratings_version = NumberAttribute(null=True)
    rated_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class RatingsByJudgeIndex(GlobalSecondaryIndex):
    """One judge's scores (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_judge"
        projection = KeysOnlyProjection()

    judge_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute(range_key=True)


class Rating(BaseModel):
    Meta = table_meta("Ratings")
    merchant_id = UnicodeAttribute(hash_key=True)
    judge_id = UnicodeAttribute(range_key=True)
    score = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()
    by_judge = RatingsByJudgeIndex()


class GoodFindsByMerchantIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_merchant"
        projection = KeysOnlyProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    rank_key = UnicodeAttribute(range_key=True)


class GoodFind(BaseModel):
    """A rated merchant's product under one label ("*" for all): higher tier, then newer, first."""

    Meta = table_meta("GoodFinds")
    label = UnicodeAttribute(hash_key=True)
    rank_key = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    tier = UnicodeAttribute()
    created_at = UnicodeAttribute()
    # copies of the product, so a page needs no read of Products; refreshed by the products stream
    title = UnicodeAttribute(null=True)
    price_cents = NumberAttribute(null=True)
    image_url = UnicodeAttribute(null=True)
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    by_merchant = GoodFindsByMerchantIndex()


class StoreListing(BaseModel):
    """A store in the directory of one label (or "*": every store), kept in the LabelIndex table
    beside the question and product lists, under `label_key` "store#{label}".

    `item_id` is `domain.label_lists.store_rank(...)`: tier rank, then creation time, then the
    store, so a descending Query is rated stores first by tier, then newest. The list is not sharded:
    it is written only when a store's name, labels or tier change (human-rate, far below one
    partition's 1,000 WCU/s even for "*"), never by a score or a product.
    """

    Meta = table_meta("LabelIndex")
    label_key = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
