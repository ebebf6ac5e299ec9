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


def list_notifications(user_id: str, page: PageRequest) -> Page:
    results = Notification.query(
        user_id, scan_index_forward=False, limit=page.limit, last_evaluated_key=page.position
    )
    items = [
        {
            "notification_id": n.notification_id,
            "type": n.type,
            "created_at": n.created_at,
            "data": n.data.as_dict() if hasattr(n.data, "as_dict") else dict(n.data or {}),
        }
        for n in results
    ]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))
