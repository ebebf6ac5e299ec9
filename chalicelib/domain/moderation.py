"""Moderation rules: what may be reported, which action applies to which target, and where a report lives."""

from __future__ import annotations

from chalicelib.domain.polls import vote_shard

CONTENT_TYPES = ("post", "comment", "question", "answer", "review")
TARGET_TYPES = (*CONTENT_TYPES, "user")
CONTENT_ACTIONS = ("remove", "restore")
USER_ACTIONS = ("suspend", "unsuspend")
ACTIONS = (*CONTENT_ACTIONS, *USER_ACTIONS)
OPEN_QUEUE = "open"  # the by_count index's one partition: targets with open reports
LOG_KEY = "all"  # the audit log's one partition
REASON_CHARACTERS = 500


def target_key(target_type: str, target_id: str) -> str:
    return f"{target_type}#{target_id}"


def report_key(target_type: str, target_id: str, reporter_id: str) -> str:
    """The partition of `reporter_id`'s report of a target: one of 16 shards of the target (the vote
    shards of `domain.polls`), so 10,000 reports a second of one post stay under 1,000 WCU/s a partition."""
    return f"{target_key(target_type, target_id)}#{vote_shard(reporter_id)}"


def action_error(target_type: str, action: str) -> str | None:
    """Why `action` cannot apply to a target of `target_type` (a 400 naming `action`), or None."""
    if target_type == "user" and action not in USER_ACTIONS:
        return "action: a user is suspended or unsuspended (remove and restore apply to content)"
    if target_type != "user" and action not in CONTENT_ACTIONS:
        return "action: content is removed or restored (suspend and unsuspend apply to a user)"
    return None


def hides(removed_at: str | None, *, viewer_is_owner: bool, viewer_is_admin: bool) -> bool:
    """Whether a removed item is hidden from this viewer when read by id: removed content is out of
    every list for everyone; by id its author and admins still see it (with `removed_at`)."""
    return bool(removed_at) and not (viewer_is_owner or viewer_is_admin)
