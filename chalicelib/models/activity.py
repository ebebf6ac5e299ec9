"""Shared activities and each user's sharing settings: one Activities table, keyed by the user.

A user's partition holds their activities (sort key: the activity id, a ULID derived from the
source record) and ONE settings item (sort key `domain.activity.SETTINGS_KEY`, "~settings", above
every activity id). Everything here is the user's own, reachable by their id alone.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.models.base import BaseModel, table_meta


class Activity(BaseModel):
    """One shared activity. Withdrawn ones stay as tombstones (`withdrawn_at`, TTL `expires_at`) so a
    replayed source record cannot share them again; lists and feeds skip them."""

    Meta = table_meta("Activities")
    user_id = UnicodeAttribute(hash_key=True)
    activity_id = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()
    source = UnicodeAttribute()  # the source record's key (the id's cause)
    product_id = UnicodeAttribute(null=True)
    merchant_id = UnicodeAttribute(null=True)  # the product's store, or the store followed / of the coupon
    question_id = UnicodeAttribute(null=True)
    question_title = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    campaign_title = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()  # when the user did it (the source's time)
    shared_at = UnicodeAttribute()  # when it was shared (a kind turned off withdraws what was shared before)
    withdrawn_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # DynamoDB TTL, set on withdrawal only


class SharingSettings(BaseModel):
    """The user's switches (every kind off until turned on) and wish-list visibility; `version`
    grows with every change, so a withdrawal job started by a later change supersedes an earlier one."""

    Meta = table_meta("Activities")
    user_id = UnicodeAttribute(hash_key=True)
    activity_id = UnicodeAttribute(range_key=True)  # always domain.activity.SETTINGS_KEY
    wishlist_add = BooleanAttribute(null=True)
    review = BooleanAttribute(null=True)
    answer = BooleanAttribute(null=True)
    store_follow = BooleanAttribute(null=True)
    coupon_redeemed = BooleanAttribute(null=True)
    wishlist_visibility = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
