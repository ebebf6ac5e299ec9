"""Activity sharing, in plain Python: which kinds exist, what each source record shares, who may see it.

Every kind is off until its user turns it on (the Beacon lesson). An activity's id is derived from
its source record (`cause_id`: the source's time, and a digest of its key), so a redelivered or
replayed record names the same activity and a conditional put makes it once. Ids sort by time like
post ids, so activities and posts share the feed's one ordering.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.ids import cause_id

WISHLIST_ADD, REVIEW, ANSWER, STORE_FOLLOW, COUPON_REDEEMED = (
    "wishlist_add", "review", "answer", "store_follow", "coupon_redeemed")
KINDS: tuple[str, ...] = (WISHLIST_ADD, REVIEW, ANSWER, STORE_FOLLOW, COUPON_REDEEMED)

PUBLIC, FOLLOWERS, PRIVATE = "public", "followers", "private"
VISIBILITIES: tuple[str, ...] = (PUBLIC, FOLLOWERS, PRIVATE)

#: The sort key of a user's settings item, in their own Activities partition: "~" sorts above every
#: activity id (ULID characters are 0-9 and A-Z), so listing activities is `activity_id < "~"`.
SETTINGS_KEY = "~settings"
ACTIVITIES_UPPER_BOUND = "~"
#: A withdrawn activity stays as a tombstone this long, past the streams' 24-hour retention, so a
#: replayed source record finds it and cannot share the activity again.
TOMBSTONE_SECONDS = 3 * 24 * 3600
WITHDRAW_PAGE_SIZE = 100  # activities a withdrawal step marks: 4 BatchWriteItem calls


def sharing_view(stored: Mapping[str, Any] | None) -> dict[str, bool]:
    """Every kind with its switch; a user who never chose has every kind off."""
    stored = stored or {}
    return {kind: bool(stored.get(kind)) for kind in KINDS}


def turned_off(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    """The kinds a change of the settings item switched from on to off, in `KINDS` order."""
    before, after = sharing_view(old), sharing_view(new)
    return [kind for kind in KINDS if before[kind] and not after[kind]]


def parse_time_ms(value: str | None) -> int:
    """Milliseconds of an ISO timestamp as this service writes them ("...Z"); 0 if absent."""
    if not value:
        return 0
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass(frozen=True)
class Shared:
    """What one source record would share, if its user has the kind on."""

    user_id: str
    type: str
    source: str  # the source record's key: the activity id's cause
    created_at: str
    product_id: str | None = None
    merchant_id: str | None = None  # the product's store (read with the product) or the store followed
    question_id: str | None = None
    question_title: str | None = None
    campaign_id: str | None = None
    campaign_title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def activity_id(self) -> str:
        return activity_id_for(self.source, self.created_at)


def activity_id_for(source: str, created_at: str) -> str:
    """The same source record always names the same activity."""
    return cause_id(parse_time_ms(created_at), f"activity:{source}")


def from_wishlist(item: Mapping[str, Any]) -> Shared:
    # the add's time is part of the cause: removing and adding again is a new activity
    return Shared(user_id=item["user_id"], type=WISHLIST_ADD, created_at=item["added_at"],
                  source=f"wishlist#{item['user_id']}#{item['product_id']}#{item['added_at']}",
                  product_id=item["product_id"], merchant_id=item.get("merchant_id"))


def from_review(item: Mapping[str, Any]) -> Shared | None:
    if not item.get("product_id"):  # the one-review guard shares the table, not the shape
        return None
    return Shared(user_id=item["author_id"], type=REVIEW, created_at=item["created_at"],
                  source=f"review#{item['review_id']}", product_id=item["product_id"],
                  merchant_id=item.get("merchant_id"))


def from_answer(item: Mapping[str, Any]) -> Shared:
    return Shared(user_id=item["author_id"], type=ANSWER, created_at=item["created_at"],
                  source=f"answer#{item['answer_id']}", question_id=item["question_id"],
                  question_title=item.get("question_title"))


def from_follow(item: Mapping[str, Any]) -> Shared:
    """A follow shares as a store follow only when the followee is a store (checked by the caller)."""
    return Shared(user_id=item["follower_id"], type=STORE_FOLLOW, created_at=item["created_at"],
                  source=f"follow#{item['follower_id']}#{item['followee_id']}#{item['created_at']}",
                  merchant_id=item["followee_id"])


def from_coupon(item: Mapping[str, Any]) -> Shared:
    return Shared(user_id=item["owner_id"], type=COUPON_REDEEMED, created_at=item["issued_at"],
                  source=f"coupon#{item['coupon_code']}", merchant_id=item.get("merchant_id"),
                  campaign_id=item["campaign_id"], campaign_title=item.get("title"))


def is_kind_on(settings: Mapping[str, Any] | None, kind: str) -> bool:
    return sharing_view(settings)[kind]


def worth_sharing(candidates: Iterable[Shared], settings: Mapping[str, Mapping[str, Any] | None]) -> list[Shared]:
    """The candidates whose users have their kind on (`settings`: each user's settings item, or None)."""
    return [shared for shared in candidates if is_kind_on(settings.get(shared.user_id), shared.type)]


# -- wish-list visibility ---------------------------------------------------------------------------
def visibility_of(settings: Mapping[str, Any] | None) -> str:
    value = (settings or {}).get("wishlist_visibility")
    return value if value in VISIBILITIES else PUBLIC


def may_see_wishlist(visibility: str, *, is_owner: bool, follows_owner: bool, blocked: bool) -> bool:
    """The owner always; nobody across a block (either direction); else as the owner chose."""
    if is_owner:
        return True
    if blocked:
        return False
    if visibility == PUBLIC:
        return True
    if visibility == FOLLOWERS:
        return follows_owner
    return False


def shown_to_follower(activity_type: str, visibility: str) -> bool:
    """A follower sees every shared activity, except wish-list adds of a private wish list."""
    return activity_type != WISHLIST_ADD or visibility != PRIVATE
