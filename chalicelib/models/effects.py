"""Markers that make stream effects happen once, however often a record is delivered."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.models.base import BaseModel, table_meta

EFFECT_TTL_SECONDS = 7 * 24 * 3600  # longer than a stream's 24 h retention


class AppliedEffect(BaseModel):
    Meta = table_meta("Effects")
    effect_id = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()


class RateBucket(BaseModel):
    Meta = table_meta("RateLimits")
    bucket = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    expires_at = NumberAttribute()
    # the account was erased: the tombstone (services.rate_limits.tombstone) refuses its writes
    deleted_at = NumberAttribute(null=True)
