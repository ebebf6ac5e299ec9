"""Notices to users, written by stream handlers and read newest first."""

from __future__ import annotations

from datetime import UTC

from chalicelib.domain.ids import cause_id, iso
from chalicelib.models.notifications import Notification
from chalicelib.pagination import Page, PageRequest

NOTIFICATION_TYPES = ("new_follower", "new_answer", "answer_accepted", "expert_level", "merchant_tier")
NOTIFICATION_TTL_SECONDS = 180 * 24 * 3600


def notification_id(at_ms: int, cause: str) -> str:
    """Time-sortable like any ID, but derived from its cause so a redelivered record rewrites it."""
    return cause_id(at_ms, cause)


def notify(user_id: str, kind: str, data: dict, *, cause: str, at_ms: int) -> None:
    from datetime import datetime

    assert kind in NOTIFICATION_TYPES, kind
    moment = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    Notification(
        user_id,
        notification_id(at_ms, cause),
        type=kind,
        created_at=iso(moment),
        data=data,
        expires_at=at_ms // 1000 + NOTIFICATION_TTL_SECONDS,
    ).save()


def new_follower_notice_id(followee_id: str, at_ms: int) -> str:
    """One `new_follower` notice per followee per second: followers of the same second share it."""
    second_ms = at_ms - at_ms % 1000
    return notification_id(second_ms, f"new-follower:{followee_id}:{second_ms}")


def follower_notice_effect_id(followee_id: str, follower_id: str, at_ms: int) -> str:
    """The exactly-once key of a follower's notice: one per follower per followee per UTC day, so
    following and unfollowing over and over notifies once, and a replayed record changes nothing."""
    return f"new-follower:{followee_id}:{follower_id}:{utc_day_of(at_ms)}"


def utc_day_of(at_ms: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def add_new_follower(transaction, followee_id: str, follower_id: str, at_ms: int, *, count: int = 1,
                     label: str = "notice") -> None:
    """Into an exactly-once transaction: the second's `new_follower` notice gains `count` followers,
    `follower_id` the first of them (`services.graph_effects.notify_new_follower` sums a batch's).

    The first write of the second creates it as the single case (`data: {follower_id}`); each
    follower adds 1 to `count` (listed as `data.count`). ADD is safe only because the caller's
    markers (`follower_notice_effect_id`) let each follower-day in once.
    """
    from datetime import datetime

    second_ms = at_ms - at_ms % 1000
    moment = iso(datetime.fromtimestamp(second_ms / 1000, tz=UTC))
    transaction.update(
        label,
        Notification(followee_id, new_follower_notice_id(followee_id, at_ms)),
        actions=[
            Notification.type.set("new_follower"),
            Notification.created_at.set(Notification.created_at | moment),
            Notification.data.set(Notification.data | {"follower_id": follower_id}),
            Notification.expires_at.set(Notification.expires_at | second_ms // 1000 + NOTIFICATION_TTL_SECONDS),
            Notification.count.add(count),
        ],
    )


def _data_of(notification: Notification) -> dict:
    data = notification.data.as_dict() if hasattr(notification.data, "as_dict") else dict(notification.data or {})
    if notification.count is not None and int(notification.count) > 1:
        data["count"] = int(notification.count)
    return data


def list_notifications(user_id: str, page: PageRequest) -> Page:
    results = Notification.query(
        user_id, scan_index_forward=False, limit=page.limit,
        last_evaluated_key=page.start_key(Notification, user_id)
    )
    items = [
        {
            "notification_id": n.notification_id,
            "type": n.type,
            "created_at": n.created_at,
            "data": _data_of(n),
        }
        for n in results
    ]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))
