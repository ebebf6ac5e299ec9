from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from chalicelib.models.base import BaseModel, table_meta


class UserProfile(BaseModel):
    """A shopper's public profile. Counters are kept by the follow-graph stream handler."""

    Meta = table_meta("Users")
    user_id = UnicodeAttribute(hash_key=True)
    display_name = UnicodeAttribute(null=True)
    bio = UnicodeAttribute(default="")
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    avatar_url = UnicodeAttribute(null=True)
    # the expert levels reached, as "label#level" (a set ADD needs no existing attribute and is
    # idempotent; levels are never lost, so a card shows each label's highest); kept by the experts handler
    expert_levels = UnicodeSetAttribute(null=True)
    follower_count = NumberAttribute(default=0)
    following_count = NumberAttribute(default=0)
    # set by the feed once every follower's pull list names this (large) account; see services/fanout.py
    pull_mode = BooleanAttribute(null=True)
    # the audience buckets: None (kept), "dropped" or "building"; see chalicelib.domain.feed.Reach
    audience_state = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
