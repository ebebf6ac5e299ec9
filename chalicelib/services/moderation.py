"""Reports and moderation: report a target once, the most reported first, remove/restore content,
suspend/unsuspend users, the audit log and the affected user's notice.

Removing content sets `removed_at` on the item itself (post, comment, question, answer, review);
every feed, list and search page already reads the item and leaves it out (no extra call), and by id
it is 404 to everyone but its author and admins. Restoring removes the attribute. A suspension is a
flag on the user's writes counter (`services.rate_limits`). Each action is ONE transaction: the
target's change, the audit-log entry, and the closing of the target's open reports. The ModerationLog
stream notifies the affected user (`notify_moderated_user`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.auth import Caller
from chalicelib.domain import moderation as rules
from chalicelib.domain.changes import BatchFailures, Change, per_batch
from chalicelib.domain.ids import new_id, now_iso
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.models.advice import Answer, Question, Review
from chalicelib.models.base import batch_get, save_if
from chalicelib.models.effects import RateBucket
from chalicelib.models.moderation import ModerationAction, Report, ReportTarget
from chalicelib.models.posts import Post
from chalicelib.models.social import Comment
from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models
from chalicelib.services import notifications
from chalicelib.services.effects import sum_changes_once
from chalicelib.services.rate_limits import suspension_actions, writes_bucket

if TYPE_CHECKING:
    from chalicelib.schemas.moderation import ModerationOut, ReportedTargetOut, ReportOut
else:
    (
        ModerationOut, ReportedTargetOut, ReportOut,
    ) = lazy_models(
        "chalicelib.schemas.moderation",
        "ModerationOut", "ReportedTargetOut", "ReportOut",
    )

_CONTENT_MODELS: dict[str, Any] = {"post": Post, "question": Question, "answer": Answer, "review": Review}
_OWNER_FIELD = {"post": "author_id", "comment": "author_id", "question": "asker_id", "answer": "author_id",
                "review": "author_id"}


@dataclass(frozen=True)
class Target:
    """A moderation target as read: its item (None for a user), whose it is, and its report queue item."""

    target_type: str
    target_id: str
    item: Any
    owner_id: str
    queue: ReportTarget | None


def _read_target(target_type: str, target_id: str) -> Target:
    """The target and its report queue item in one BatchGetItem (a comment is found by its id first,
    on the `by_comment_id` index); 404 when there is no such target."""
    key = rules.target_key(target_type, target_id)
    queue_key = (ReportTarget, key, None)
    if target_type == "comment":
        found = list(Comment.by_comment_id.query(target_id, limit=1))
        item: Any = found[0] if found else None
        (queue,) = batch_get([queue_key]) if item is not None else (None,)
    elif target_type == "user":
        item, queue = batch_get([(UserProfile, target_id, None), queue_key])
    else:
        item, queue = batch_get([(_CONTENT_MODELS[target_type], target_id, None), queue_key])
        if target_type == "review" and item is not None and not getattr(item, "product_id", None):
            item = None  # a review guard shares the table: not a review
    if item is None:
        raise NotFound(f"No {target_type} {target_id}")
    owner_id = target_id if target_type == "user" else getattr(item, _OWNER_FIELD[target_type])
    return Target(target_type, target_id, None if target_type == "user" else item, owner_id,
                  queue if isinstance(queue, ReportTarget) else None)


# -- reports ------------------------------------------------------------------------------------------
def report(caller: Caller, target_type: str, target_id: str, reason: str) -> ReportOut:
    """Once per user and target: one conditional put (a second is 409 `AlreadyReported`). The Reports
    stream counts it into the target's queue item (`count_reports`)."""
    _read_target(target_type, target_id)
    item = Report(rules.report_key(target_type, target_id, caller.user_id), caller.user_id,
                  target_type=target_type, target_id=target_id, reason=reason, created_at=now_iso())
    if not save_if(item, Report.reporter_id.does_not_exist()):
        raise Conflict(f"You have already reported this {target_type}", code="AlreadyReported")
    return ReportOut.from_item(item)


def open_reports(page: PageRequest) -> Page:
    """Targets with open reports, most reported first: ONE Query of the sparse `by_count` index."""
    results = ReportTarget.by_count.query(rules.OPEN_QUEUE, scan_index_forward=False, limit=page.limit,
                                          last_evaluated_key=page.start_key(ReportTarget.by_count, rules.OPEN_QUEUE))
    items = [ReportedTargetOut.from_item(target) for target in results]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


REPORT_COUNT_EFFECT = "count_reports"


@dataclass(frozen=True)
class QueueItem:
    """A target's report queue item: the batch's new reports of it added in ONE update (`sum_once`),
    which (re)opens it in the by_count index. A viral target reported 10,000 times a second takes a
    few updates a second: one per batch of each Reports stream shard."""

    target_type: str
    target_id: str
    gone_if_false: bool = True

    def write(self, transaction: Transaction, label: str, deltas: Sequence[tuple[str, str]]) -> bool:
        last_at, last_reason = max(deltas)  # (created_at, reason) of each new report
        transaction.update(label, ReportTarget(rules.target_key(self.target_type, self.target_id)), actions=[
            ReportTarget.report_count.add(len(deltas)),
            ReportTarget.queue.set(rules.OPEN_QUEUE),
            ReportTarget.target_type.set(self.target_type),
            ReportTarget.target_id.set(self.target_id),
            ReportTarget.last_reason.set(last_reason),
            ReportTarget.last_reported_at.set(last_at),
        ])
        return True


def report_moves(change: Change) -> Iterable[tuple[QueueItem, str, tuple[str, str]]]:
    """A new report counts once on its target; reports are closed by moderation, never un-counted."""
    if change.kind != "INSERT":
        return []
    item = change.item
    return [(QueueItem(str(item["target_type"]), str(item["target_id"])), change.effect_id(REPORT_COUNT_EFFECT),
             (str(item.get("created_at", "")), str(item.get("reason", ""))))]


@per_batch
def count_reports(changes: Sequence[Change]) -> BatchFailures:
    """Reports stream, per batch: ONE update of each reported target's queue item, exactly once."""
    return sum_changes_once(changes, report_moves)


# -- moderation ---------------------------------------------------------------------------------------
def moderate(caller: Caller, target_type: str, target_id: str, action: str, reason: str) -> ModerationOut:
    """One admin action, in ONE transaction: the target's change (`removed_at` on content, the
    suspension flag on the user's writes counter), the audit-log entry, and the closing of the
    target's open reports. Repeating an action is allowed and logged again (it changes nothing else)."""
    problem = rules.action_error(target_type, action)
    if problem:
        raise BadRequest(problem)
    if action in rules.USER_ACTIONS and target_id == caller.user_id:
        raise BadRequest("target_id: an admin cannot suspend or unsuspend themselves")

    def attempt() -> ModerationOut:
        target = _read_target(target_type, target_id)
        at = now_iso()
        entry = ModerationAction(rules.LOG_KEY, new_id(), admin_id=caller.user_id, target_type=target_type,
                                 target_id=target_id, action=action, reason=reason,
                                 affected_user_id=target.owner_id, created_at=at)
        transaction = Transaction()
        if target.item is None:
            transaction.update("target", RateBucket(writes_bucket(target_id)),
                               actions=suspension_actions(action == "suspend", at, time.time()))
        else:
            model = type(target.item)
            attribute = model.removed_at
            hash_attribute = getattr(model, model._hash_keyname)
            transaction.update("target", target.item,
                               actions=[attribute.set(at) if action == "remove" else attribute.remove()],
                               condition=hash_attribute.exists())
        transaction.put("log", entry, condition=ModerationAction.action_id.does_not_exist())
        if target.queue is not None and target.queue.queue:
            transaction.update("reports", target.queue,
                               actions=[ReportTarget.queue.remove(), ReportTarget.report_count.set(0),
                                        ReportTarget.resolved_at.set(at), ReportTarget.resolution.set(action)],
                               condition=ReportTarget.target_key.exists())
        try:
            transaction.commit()
        except TransactionFailed as exc:
            if not exc.conflict and exc.failed_on("target"):
                raise NotFound(f"No {target_type} {target_id}") from None
            raise
        return ModerationOut.from_item(entry)

    return retry_on_conflict(attempt, what=f"this {target_type}")


def audit_log(page: PageRequest) -> Page:
    """Every action, newest first: ONE Query of the log's partition."""
    results = ModerationAction.query(rules.LOG_KEY, scan_index_forward=False, limit=page.limit,
                                     last_evaluated_key=page.start_key(ModerationAction, rules.LOG_KEY))
    items = [ModerationOut.from_item(entry) for entry in results]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def moderation_notice(change: Change) -> tuple[str, dict] | None:
    """(recipient, data) of the `moderation` notice an audit-log entry is due."""
    if change.kind != "INSERT":
        return None
    item = change.item
    if not item.get("affected_user_id"):
        return None
    return str(item["affected_user_id"]), {"target_type": item["target_type"], "target_id": item["target_id"],
                                           "action": item["action"], "reason": item.get("reason")}


def notify_moderated_user(change: Change) -> None:
    """ModerationLog stream: the affected user hears of the action (once: the notice's id names it)."""
    notice = moderation_notice(change)
    if notice is None:
        return
    recipient, data = notice
    notifications.notify(recipient, "moderation", data, cause=f"moderation:{change.item['action_id']}",
                         at_ms=change.created_ms)
