"""Moderation's decisions from plain values: which action fits which target, where a report lives,
what a report record counts, who is told of an action, and who still sees removed content."""

from __future__ import annotations

import pytest

from chalicelib.domain import moderation as rules
from chalicelib.domain.changes import inserted, modified, removed

REPORT = {"report_key": "post#P1#3", "reporter_id": "bob", "target_type": "post", "target_id": "P1",
          "reason": "spam", "created_at": "2026-11-30T00:00:00.000Z"}
ENTRY = {"log_key": "all", "action_id": "01J0000000AAAAAAAAAAAAAAAA", "admin_id": "root", "target_type": "post",
         "target_id": "P1", "action": "remove", "reason": "scam", "affected_user_id": "alice",
         "created_at": "2026-11-30T00:00:00.000Z"}


@pytest.mark.parametrize("target_type", rules.CONTENT_TYPES)
def test_content_is_removed_or_restored_and_never_suspended(target_type):
    assert rules.action_error(target_type, "remove") is None
    assert rules.action_error(target_type, "restore") is None
    assert rules.action_error(target_type, "suspend").startswith("action:")
    assert rules.action_error(target_type, "unsuspend").startswith("action:")


def test_a_user_is_suspended_or_unsuspended_and_never_removed():
    assert rules.action_error("user", "suspend") is None and rules.action_error("user", "unsuspend") is None
    assert rules.action_error("user", "remove").startswith("action:")
    assert rules.action_error("user", "restore").startswith("action:")


def test_one_targets_reports_spread_over_16_shards_and_one_reporter_always_lands_on_the_same():
    keys = {rules.report_key("post", "P1", f"user{n}") for n in range(500)}
    assert len(keys) == 16 and all(key.startswith("post#P1#") for key in keys)
    assert rules.report_key("post", "P1", "bob") == rules.report_key("post", "P1", "bob")


def test_removed_content_is_hidden_by_id_but_from_its_owner_and_admins():
    at = "2026-11-30T00:00:00Z"
    assert rules.hides(at, viewer_is_owner=False, viewer_is_admin=False)
    assert not rules.hides(at, viewer_is_owner=True, viewer_is_admin=False)
    assert not rules.hides(at, viewer_is_owner=False, viewer_is_admin=True)
    assert not rules.hides(None, viewer_is_owner=False, viewer_is_admin=False)


def test_a_new_report_counts_once_on_its_target_and_nothing_else_moves_the_queue():
    from chalicelib.services.moderation import QueueItem, report_moves

    [(target, effect_id, delta)] = report_moves(inserted("Reports", REPORT, sequence_number="9"))
    assert target == QueueItem("post", "P1")
    assert effect_id == "count_reports:Reports:9"
    assert delta == ("2026-11-30T00:00:00.000Z", "spam")
    assert list(report_moves(removed("Reports", REPORT))) == []
    assert list(report_moves(modified("Reports", REPORT, {**REPORT, "reason": "x"}))) == []


def test_the_affected_user_is_told_of_each_action_with_its_reason():
    from chalicelib.services.moderation import moderation_notice

    recipient, data = moderation_notice(inserted("ModerationLog", ENTRY))
    assert recipient == "alice"
    assert data == {"target_type": "post", "target_id": "P1", "action": "remove", "reason": "scam"}
    assert moderation_notice(removed("ModerationLog", ENTRY)) is None
    assert moderation_notice(inserted("ModerationLog", {**ENTRY, "affected_user_id": None})) is None


def test_a_notice_of_the_typed_moderation_data_parses():
    from chalicelib.schemas.notifications import ModerationData

    assert ModerationData.model_validate({"target_type": "user", "target_id": "u", "action": "suspend",
                                          "reason": "spam"}).action == "suspend"


COMMENT = {"post_id": "P1", "comment_id": "C1", "author_id": "bob", "post_author_id": "alice", "text": "hi",
           "created_at": "2026-11-30T00:00:00.000Z"}
REVIEW = {"review_id": "R1", "product_id": "K1", "author_id": "bob", "rating": 4, "body": "ok"}


def test_a_removed_comment_leaves_the_posts_comment_count_and_restore_brings_it_back():
    from chalicelib.services.social import comment_moves

    gone = {**COMMENT, "removed_at": "2026-11-30T01:00:00Z"}
    assert [m[2] for m in comment_moves(inserted("Comments", COMMENT))] == [1]
    assert [m[2] for m in comment_moves(modified("Comments", COMMENT, gone))] == [-1]
    assert [m[2] for m in comment_moves(modified("Comments", gone, COMMENT))] == [1]
    assert list(comment_moves(removed("Comments", gone))) == []  # already uncounted
    assert list(comment_moves(modified("Comments", COMMENT, {**COMMENT, "text": "edited"}))) == []


def test_a_removed_review_leaves_the_products_count_and_average_and_restore_brings_it_back():
    from chalicelib.domain.products import review_counter_moves

    gone = {**REVIEW, "removed_at": "2026-11-30T01:00:00Z"}
    assert review_counter_moves(REVIEW, gone) == ("K1", -1, -4)
    assert review_counter_moves(gone, REVIEW) == ("K1", 1, 4)
    assert review_counter_moves(gone, None) is None  # deleting a removed review moves nothing more
    assert review_counter_moves(gone, {**gone, "rating": 1}) is None
