"""Notices to users, written by stream handlers and read newest first, with their read state.

Read state: each user has one `NotificationState` item beside their notices. A notice is read when
it was marked read by itself (`read` on the notice) or its id is at or below the state's
`read_through` watermark. Marking all read is one UpdateItem (`read_through` := `newest`, the
highest id counted so far; `unread` := 0) however many notices there are. `unread` is kept by the
Notifications stream (`count_unread`): a new notice above the watermark adds one, a notice marked
read or expiring unread above it takes one away, summed per user per batch and exactly once per
record (a marker per counted record, in the same transaction as the count). The count may trail a
new notice by the stream's delay; the list computes `read` from the items themselves. A notice
whose record reaches the stream after a "mark all read" while its id sorts at or below the
watermark (ids sort by the causing change's second, so: one of the same second as the newest
counted, or one delayed by retries) is read from the start, and never counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING

from chalicelib.domain.changes import INSERT, MODIFY, REMOVE, BatchFailures, Change, per_batch
from chalicelib.domain.ids import cause_id, epoch_seconds, iso
from chalicelib.errors import BadRequest
from chalicelib.models.base import batch_get, get_or_none
from chalicelib.models.effects import EFFECT_TTL_SECONDS, AppliedEffect
from chalicelib.models.notifications import FIRST_NOTIFICATION_ID, STATE_ID, Notification, NotificationState
from chalicelib.models.transactions import MAX_ITEMS, Transaction, TransactionFailed, retry_on_conflict
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.notifications import NotificationOut, UnreadCount
else:
    NotificationOut, UnreadCount = lazy_models("chalicelib.schemas.notifications", "NotificationOut", "UnreadCount")

NOTIFICATION_TYPES = ("new_follower", "new_answer", "answer_accepted", "expert_level", "merchant_tier",
                      "new_comment", "live_started", "live_soon", "moderation")

#: Where each type names the person who caused it (the notice's `actor`); the others have no actor
#: (a level reached, a tier moved, an admin's moderation: the admin is not named).
ACTOR_FIELDS = {
    "new_follower": "follower_id",  # of a grouped notice: its first follower
    "new_answer": "author_id",
    "answer_accepted": "asker_id",
    "new_comment": "author_id",
    "live_started": "host_id",
    "live_soon": "host_id",
}
NOTIFICATION_TTL_SECONDS = 180 * 24 * 3600


def notification_id(at_ms: int, cause: str) -> str:
    """Time-sortable like any ID, but derived from its cause so a redelivered record rewrites it."""
    return cause_id(at_ms, cause)


def notify(user_id: str, kind: str, data: dict, *, cause: str, at_ms: int) -> None:
    from datetime import datetime

    from pynamodb.exceptions import PutError

    assert kind in NOTIFICATION_TYPES, kind
    moment = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    notice = Notification(
        user_id,
        notification_id(at_ms, cause),
        type=kind,
        created_at=iso(moment),
        data=data,
        expires_at=at_ms // 1000 + NOTIFICATION_TTL_SECONDS,
        actor_id=data.get(ACTOR_FIELDS.get(kind, "")) or None,
    )
    try:
        # First write wins: a redelivered record must not clear the `read` flag the user set since.
        notice.save(condition=Notification.notification_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


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


# --- reading ------------------------------------------------------------------------------------


def _data_of(notification: Notification) -> dict:
    data = notification.data.as_dict() if hasattr(notification.data, "as_dict") else dict(notification.data or {})
    if notification.count is not None and int(notification.count) > 1:
        data["count"] = int(notification.count)
    return data


def actor_id_of(notification: Notification) -> str | None:
    """The person who caused the notice: its `actor_id`, or (notices written before it was kept, and
    grouped follower notices) the type's field of `data`."""
    if notification.actor_id:
        return notification.actor_id
    field = ACTOR_FIELDS.get(notification.type)
    value = _data_of(notification).get(field) if field else None
    return value if isinstance(value, str) and value else None


def is_read(notification: Notification, read_through: str | None) -> bool:
    return bool(notification.read) or (read_through is not None and notification.notification_id <= read_through)


def read_state(user_id: str) -> NotificationState | None:
    return get_or_none(NotificationState, user_id, STATE_ID)


def parse_unread_filter(raw: str | None) -> bool:
    if raw is None or raw == "false":
        return False
    if raw == "true":
        return True
    raise BadRequest("unread: must be true or false")


def list_notifications(user_id: str, page: PageRequest, *, unread: str | None = None) -> Page:
    """Newest first, each with `read` and `actor`: one Query, then one BatchGetItem of the read state
    and the actors' cards (2 calls).

    With `unread_only` the state is read first (a GetItem, so 3 calls): the Query starts above the
    watermark and filters out notices marked read one by one (a page may then hold fewer than
    `limit` items; `next_cursor` goes on).
    """
    from chalicelib.services.cards import CardRead

    start = page.start_key(Notification, user_id)  # a bad cursor is a 400 first, whatever the filter
    unread_only = parse_unread_filter(unread)
    state = read_state(user_id) if unread_only else None
    if unread_only:
        watermark = state.read_through if state is not None else None
        lower = (Notification.notification_id > watermark if watermark
                 else Notification.notification_id >= FIRST_NOTIFICATION_ID)
        results = Notification.query(
            user_id, lower, filter_condition=Notification.read.does_not_exist(), scan_index_forward=False,
            limit=page.limit, last_evaluated_key=start)
    else:
        results = Notification.query(
            user_id, Notification.notification_id >= FIRST_NOTIFICATION_ID, scan_index_forward=False,
            limit=page.limit, last_evaluated_key=start)
    notices = list(results)
    cards = CardRead(user_ids=[actor_id for n in notices if (actor_id := actor_id_of(n))])
    keys = cards.keys() if unread_only else [(NotificationState, user_id, STATE_ID), *cards.keys()]
    found = batch_get(keys) if keys else []
    if not unread_only:
        state, found = found[0], found[1:]  # type: ignore[assignment]
    actors = cards.build(found).users
    read_through = state.read_through if state is not None else None
    items = [
        NotificationOut.from_item(n, _data_of(n), is_read(n, read_through),
                                  actors.get(actor_id) if (actor_id := actor_id_of(n)) else None)
        for n in notices
    ]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def unread_count(user_id: str) -> UnreadCount:
    """One GetItem of the user's read state: never a count of the notices themselves."""
    state = read_state(user_id)
    return UnreadCount(count=max(0, int(state.unread or 0)) if state is not None else 0)


# --- marking read -------------------------------------------------------------------------------


def mark_all_read(user_id: str) -> None:
    """One UpdateItem: the watermark moves up to the newest notice counted, and the count to 0.

    Notices the stream has not counted yet stay unread if they are newer than that: they are
    counted when their record arrives (the stream's transaction is conditional on `version`, which
    this write moves).
    """
    from chalicelib.models.base import update_if

    update_if(
        NotificationState(user_id, STATE_ID),
        actions=[
            NotificationState.read_through.set(NotificationState.newest),
            NotificationState.unread.set(0),
            NotificationState.version.add(1),
        ],
        condition=NotificationState.newest.exists(),
    )


def mark_read(user_id: str, notification_ids: Sequence[str]) -> None:
    """Mark the caller's notices `notification_ids` read: one BatchGetItem (the notices and the
    read state) and one transaction setting `read` on those still unread.

    Ids that name none of the caller's notices (unknown, expired, or another user's: the key holds
    the caller's id) are ignored, as are notices already read.
    """
    wanted = list(dict.fromkeys(notification_ids))
    found = batch_get([(NotificationState, user_id, STATE_ID)] + [(Notification, user_id, i) for i in wanted])
    state, notices = found[0], found[1:]
    read_through = state.read_through if isinstance(state, NotificationState) else None
    pending = [n.notification_id for n in notices if isinstance(n, Notification) and not is_read(n, read_through)]
    while pending:
        transaction = Transaction()
        for notice_id in pending:
            transaction.update(notice_id, Notification(user_id, notice_id), actions=[Notification.read.set(True)],
                               condition=Notification.notification_id.exists())
        try:
            retry_on_conflict(transaction.commit, what="your notifications")
        except TransactionFailed as exc:
            if not exc.failed:
                raise
            pending = [notice_id for notice_id in pending if not exc.failed_on(notice_id)]  # expired meanwhile
            continue
        return


# --- the unread count, kept by the Notifications stream -----------------------------------------


def unread_move(change: Change) -> tuple[str, str, int] | None:
    """(user, notice id, ±1) a record may do to its user's unread count, if the notice is above the
    watermark when counted: +1 for a new notice, -1 for one marked read or expiring unread."""
    item = change.item
    notice_id = item.get("notification_id")
    user_id = item.get("user_id")
    if not notice_id or not user_id or notice_id == STATE_ID or "type" not in item:
        return None
    was_read, now_read = bool((change.old or {}).get("read")), bool((change.new or {}).get("read"))
    if change.kind == INSERT and not now_read:
        return user_id, notice_id, 1
    if change.kind == MODIFY and now_read and not was_read:
        return user_id, notice_id, -1
    if change.kind == REMOVE and not was_read:
        return user_id, notice_id, -1
    return None


#: Markers a counting transaction may hold beside the state's update.
MARKERS_PER_TRANSACTION = MAX_ITEMS - 1


@per_batch
def count_unread(changes: Sequence[Change]) -> BatchFailures:
    """Notifications stream effect, per batch: one counting transaction per user (per 99 records).

    Returns the failures by sequence number (the records of users whose count could not be
    written), for the handler to report in `batchItemFailures`.
    """
    by_user: dict[str, list[tuple[Change, str, int]]] = {}
    for change in changes:
        move = unread_move(change)
        if move is not None:
            user_id, notice_id, delta = move
            by_user.setdefault(user_id, []).append((change, notice_id, delta))
    failures: dict[str, BaseException] = {}
    for user_id, moves in by_user.items():
        try:
            _count_for_user(user_id, moves)
        except Exception as exc:  # noqa: BLE001 - reported per record; other users' counts go on
            for change, _, _ in moves:
                failures[change.sequence_number] = exc
    return failures


def _count_for_user(user_id: str, moves: list[tuple[Change, str, int]]) -> None:
    """Add the moves above the watermark to `unread`, each once: a marker per counted record.

    A move at or below the watermark counts nothing now or on any redelivery (the watermark only
    rises), so it needs no marker; a new notice still raises `newest`, a maximum, safe to repeat.
    """
    pending = list(moves)

    def attempt() -> None:
        nonlocal pending
        while pending:
            state = read_state(user_id)
            if state is None and all(delta < 0 for _, _, delta in pending):
                return  # no count to lower (an erased account's notices went with their state)
            read_through = state.read_through if state is not None else None
            newest = state.newest if state is not None else None
            above = [m for m in pending if read_through is None or m[1] > read_through]
            counted = above[:MARKERS_PER_TRANSACTION]
            top = max([newest or "", *(notice_id for _, notice_id, delta in pending if delta > 0)])
            if not counted and top == (newest or ""):
                return
            transaction = Transaction()
            actions: list = [NotificationState.version.add(1)]
            if counted:
                actions.append(NotificationState.unread.add(sum(delta for _, _, delta in counted)))
            if top != (newest or ""):
                actions.append(NotificationState.newest.set(top))
            condition = (NotificationState.version == int(state.version or 0) if state is not None
                         else NotificationState.user_id.does_not_exist())
            transaction.update("state", NotificationState(user_id, STATE_ID), actions=actions,
                               condition=condition, retry_if_false=True)
            expires_at = epoch_seconds() + EFFECT_TTL_SECONDS
            for change, _, _ in counted:
                marker = AppliedEffect(change.effect_id("unread-count"), expires_at=expires_at)
                transaction.put(change.sequence_number, marker, condition=AppliedEffect.effect_id.does_not_exist())
            try:
                transaction.commit()
            except TransactionFailed as exc:
                done = [m for m in counted if exc.failed_on(m[0].sequence_number)]
                if not done:
                    raise  # lost a race on the state (`retry_on_conflict` runs it again) or a defect
                pending = [m for m in pending if m not in done]  # counted by an earlier delivery
                continue
            pending = above[len(counted):]

    retry_on_conflict(attempt, what="the unread count")
