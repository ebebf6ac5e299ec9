"""Markers that make stream effects happen once, however often a record is delivered."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.models.base import BaseModel, table_meta

EFFECT_TTL_SECONDS = 7 * 24 * 3600  # longer than a stream's 24 h retention


class AppliedEffect(BaseModel):
    Meta = table_meta("Effects")
    effect_id = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()


class RateBucket(BaseModel):
    """One user's fixed-window counter of one kind (`writes#<user>`, `uploads#<user>`): the window it
    counts (`window`, the window number) and its `count`. `suspended` (set by moderation, on the
    writes counter) refuses every write in the counter's own conditional update; a suspended item
    has no `expires_at`, so TTL never lifts a suspension."""

    Meta = table_meta("RateLimits")
    bucket = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    window = NumberAttribute(null=True)
    suspended = BooleanAttribute(null=True)
    suspended_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    # the account was erased: the tombstone (services.rate_limits.tombstone) refuses its writes
    deleted_at = NumberAttribute(null=True)
