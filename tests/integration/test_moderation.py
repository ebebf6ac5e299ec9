"""Reports and moderation: once per user and target, the most reported first (summed exactly under
chaos), removal and restore of content across feeds, lists and reads, suspension on the write
counter, the audit log and the affected user's notice."""

from __future__ import annotations

import pytest

from tests.support.advice import answer, ask, notifications, product, review
from tests.support.api import call
from tests.support.posts import feed_of, follow, publish, read_all, with_profiles


def report(client, user, target_type: str, target_id: str, reason: str = "spam"):
    return call(client, "POST", "/reports", user, {"target_type": target_type, "target_id": target_id,
                                                    "reason": reason})


def moderate(client, admin, target_type: str, target_id: str, action: str, reason: str = "against the rules"):
    response = call(client, "POST", "/admin/moderation", admin, {"target_type": target_type, "target_id": target_id,
                                                                 "action": action, "reason": reason})
    assert response.status_code == 200, response.data
    return response.data


@pytest.fixture
def admin(users):
    return users("admin", groups=("admins",))


# -- reports ------------------------------------------------------------------------------------------
def test_a_report_is_once_per_user_and_target_and_an_unknown_target_is_404(client, users):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    post_id = publish(client, alice)
    first = report(client, bob, "post", post_id)
    assert first.status_code == 201, first.data
    assert (first.data["target_type"], first.data["target_id"], first.data["reason"]) == ("post", post_id, "spam")
    again = report(client, bob, "post", post_id, "still spam")
    assert again.status_code == 409 and again.data["Code"] == "AlreadyReported"
    assert report(client, bob, "post", "01J0000000AAAAAAAAAAAAAAAA").status_code == 404
    assert report(client, bob, "user", "no-such-user").status_code == 404
    assert report(client, alice, "user", bob.user_id).status_code == 201


def test_the_queue_lists_the_most_reported_first_counted_exactly_under_chaos(client, users, admin, chaos_streams):
    author = users("author")
    reporters = [users(f"r{n}") for n in range(6)]
    with_profiles(client, author, *reporters)
    viral, mild = publish(client, author, "viral"), publish(client, author, "mild")
    for n, reporter in enumerate(reporters):
        assert report(client, reporter, "post", viral, f"reason {n}").status_code == 201
        if n % 2:
            chaos_streams.drain()
    for reporter in reporters[:2]:
        assert report(client, reporter, "post", mild).status_code == 201
    chaos_streams.drain()
    page = call(client, "GET", "/admin/reports", admin)
    assert page.status_code == 200, page.data
    assert [(item["target_id"], item["report_count"]) for item in page.data["items"]] == [(viral, 6), (mild, 2)]
    # one a page: the cursor leads to the next
    first = call(client, "GET", "/admin/reports?limit=1", admin).data
    second = call(client, "GET", f"/admin/reports?limit=1&cursor={first['next_cursor']}", admin).data
    assert [first["items"][0]["target_id"], second["items"][0]["target_id"]] == [viral, mild]


def test_only_admins_read_the_queue_and_the_log_and_act(client, users):
    bob = users("bob")
    assert call(client, "GET", "/admin/reports", bob).status_code == 403
    assert call(client, "GET", "/admin/moderation", bob).status_code == 403
    refused = call(client, "POST", "/admin/moderation", bob, {"target_type": "user", "target_id": bob.user_id,
                                                              "action": "suspend", "reason": "x"})
    assert refused.status_code == 403


# -- removal and restore ------------------------------------------------------------------------------
def test_a_removed_post_leaves_the_feed_and_lists_and_restore_brings_it_back(client, users, admin, streams):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    with_profiles(client, alice, bob, carol)
    follow(client, bob, alice)
    streams.drain()
    kept, doomed = publish(client, alice, "kept"), publish(client, alice, "doomed")
    assert report(client, carol, "post", doomed, "scam link").status_code == 201
    streams.drain()
    assert feed_of(client, bob) == [doomed, kept]
    assert [item["target_id"] for item in call(client, "GET", "/admin/reports", admin).data["items"]] == [doomed]
    # When an admin removes it
    entry = moderate(client, admin, "post", doomed, "remove", "scam")
    assert (entry["admin_id"], entry["action"], entry["affected_user_id"]) == (admin.user_id, "remove", alice.user_id)
    # Then it is out of the feed, the author's list and GET for others; its author and admins still see it
    assert feed_of(client, bob) == [kept]
    assert read_all(client, bob, f"/users/{alice.user_id}/posts")[0] == [kept]
    assert call(client, "GET", f"/posts/{doomed}", bob).status_code == 404
    assert call(client, "GET", f"/posts/{doomed}", alice).data["removed_at"]
    assert call(client, "GET", f"/posts/{doomed}", admin).status_code == 200
    assert call(client, "PUT", f"/posts/{doomed}/like", bob).status_code == 404
    # and its reports are closed
    assert call(client, "GET", "/admin/reports", admin).data["items"] == []
    # And the author is told
    streams.drain()
    [notice] = notifications(client, alice, "moderation")
    assert notice["data"] == {"target_type": "post", "target_id": doomed, "action": "remove", "reason": "scam"}
    # When it is restored, it is back everywhere
    moderate(client, admin, "post", doomed, "restore", "appeal upheld")
    assert feed_of(client, bob) == [doomed, kept]
    assert call(client, "GET", f"/posts/{doomed}", bob).data["removed_at"] is None
    # And the audit log has both, newest first
    log = call(client, "GET", "/admin/moderation", admin).data["items"]
    assert [(e["action"], e["target_id"], e["reason"]) for e in log] == [("restore", doomed, "appeal upheld"),
                                                                         ("remove", doomed, "scam")]


def test_removed_comments_questions_answers_and_reviews_leave_their_lists(client, users, admin, streams):
    alice, bob = users("alice"), users("bob")
    merchant = users("shop", groups=("merchants",))
    with_profiles(client, alice, bob, merchant)
    post_id = publish(client, alice)
    comment = call(client, "POST", f"/posts/{post_id}/comments", bob, {"text": "buy my stuff"}).data
    question = ask(client, alice)
    reply = answer(client, bob, question["question_id"])
    item = product(client, merchant)
    written = review(client, bob, item["product_id"])
    streams.drain()
    moderate(client, admin, "comment", comment["comment_id"], "remove")
    moderate(client, admin, "answer", reply["answer_id"], "remove")
    moderate(client, admin, "review", written["review_id"], "remove")
    moderate(client, admin, "question", question["question_id"], "remove")
    assert call(client, "GET", f"/posts/{post_id}/comments", alice).data["items"] == []
    assert call(client, "GET", f"/questions/{question['question_id']}/answers", alice).data["items"] == []
    assert call(client, "GET", f"/products/{item['product_id']}/reviews", alice).data["items"] == []
    assert call(client, "GET", "/questions?label=camera", bob).data["items"] == []
    assert call(client, "GET", f"/questions/{question['question_id']}", bob).status_code == 404
    assert call(client, "GET", f"/questions/{question['question_id']}", alice).data["removed_at"]
    # a removed question takes no answer
    assert call(client, "POST", f"/questions/{question['question_id']}/answers", bob,
                {"body": "late"}).status_code == 404
    # and the post's comment count and the product's review count and average drop, once the streams run
    streams.drain()
    assert call(client, "GET", f"/posts/{post_id}", alice).data["comment_count"] == 0
    assert call(client, "GET", f"/products/{item['product_id']}", alice).data["review_count"] == 0
    # restore brings the comment back, and its count
    moderate(client, admin, "comment", comment["comment_id"], "restore")
    assert [c["comment_id"] for c in call(client, "GET", f"/posts/{post_id}/comments", alice).data["items"]] == [
        comment["comment_id"]]
    streams.drain()
    assert call(client, "GET", f"/posts/{post_id}", alice).data["comment_count"] == 1


def test_a_removed_answer_leaves_its_questions_count_and_restore_brings_it_back(client, users, admin, streams):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    with_profiles(client, alice, bob, carol)
    question = ask(client, alice)
    question_id = question["question_id"]
    spam, kept = answer(client, bob, question_id), answer(client, carol, question_id)
    streams.drain()
    assert call(client, "GET", f"/questions/{question_id}", alice).data["answer_count"] == 2
    # When a moderator removes one answer, the count is of the answers readers see
    moderate(client, admin, "answer", spam["answer_id"], "remove")
    streams.drain()
    assert call(client, "GET", f"/questions/{question_id}", alice).data["answer_count"] == 1
    assert [a["answer_id"] for a in call(client, "GET", f"/questions/{question_id}/answers", alice).data["items"]] == [
        kept["answer_id"]]
    # restore counts it again; a removed answer deleted by its author moves nothing more
    moderate(client, admin, "answer", spam["answer_id"], "restore")
    streams.drain()
    assert call(client, "GET", f"/questions/{question_id}", alice).data["answer_count"] == 2
    moderate(client, admin, "answer", spam["answer_id"], "remove")
    streams.drain()
    assert call(client, "DELETE", f"/answers/{spam['answer_id']}", bob).status_code == 204
    streams.drain()
    assert call(client, "GET", f"/questions/{question_id}", alice).data["answer_count"] == 1


def test_actions_that_do_not_fit_the_target_are_400_naming_the_field(client, users, admin):
    alice = users("alice")
    with_profiles(client, alice)
    post_id = publish(client, alice)
    for target_type, target_id, action in (("post", post_id, "suspend"), ("user", alice.user_id, "remove")):
        refused = call(client, "POST", "/admin/moderation", admin, {"target_type": target_type, "target_id": target_id,
                                                                    "action": action, "reason": "x"})
        assert refused.status_code == 400 and refused.data["Message"].startswith("action:"), refused.data
    unknown = call(client, "POST", "/admin/moderation", admin, {"target_type": "post", "target_id": "nope",
                                                                "action": "remove", "reason": "x"})
    assert unknown.status_code == 404


# -- suspension ---------------------------------------------------------------------------------------
def test_a_suspended_user_cannot_write_until_unsuspended_and_still_reads(client, users, admin, streams):
    alice = users("alice")
    with_profiles(client, alice, admin)
    publish(client, alice)
    moderate(client, admin, "user", alice.user_id, "suspend", "spam wave")
    refused = call(client, "POST", "/posts", alice, {"text": "more spam"})
    assert refused.status_code == 403 and refused.data["Code"] == "Suspended"
    assert call(client, "PUT", "/me", alice, {"display_name": "Alice"}).data["Code"] == "Suspended"
    assert call(client, "GET", "/me", alice).status_code == 200
    streams.drain()
    assert notifications(client, alice, "moderation")[0]["data"]["action"] == "suspend"
    moderate(client, admin, "user", alice.user_id, "unsuspend", "served")
    assert call(client, "POST", "/posts", alice, {"text": "sorry"}).status_code == 201


def test_suspension_survives_a_new_window_and_is_checked_in_the_counters_update(tables):
    from chalicelib.errors import Forbidden
    from chalicelib.models.effects import RateBucket
    from chalicelib.services.rate_limits import consume_write, suspension_actions, writes_bucket

    minute = 1_800_000_000 - 1_800_000_000 % 60
    assert consume_write("u1", now=minute + 1) is True
    assert consume_write("u1", now=minute + 2) is False
    RateBucket(writes_bucket("u1")).update(actions=suspension_actions(True, "2027-01-15T08:00:00Z", minute + 3))
    for moment in (minute + 4, minute + 600):
        with pytest.raises(Forbidden) as refused:
            consume_write("u1", now=moment)
        assert refused.value.code == "Suspended"
    stored = RateBucket.get(writes_bucket("u1"))
    assert stored.expires_at is None  # TTL never lifts a suspension
    RateBucket(writes_bucket("u1")).update(actions=suspension_actions(False, "", minute + 700))
    assert consume_write("u1", now=minute + 700) is True


def test_an_admin_cannot_suspend_themselves(client, admin):
    refused = call(client, "POST", "/admin/moderation", admin, {"target_type": "user", "target_id": admin.user_id,
                                                                "action": "suspend", "reason": "x"})
    assert refused.status_code == 400 and refused.data["Message"].startswith("target_id:")


# -- blocks -------------------------------------------------------------------------------------------
def test_someone_a_user_blocks_cannot_answer_vote_or_mark_their_content(client, users, streams):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    merchant = users("shop", groups=("merchants",))
    with_profiles(client, alice, bob, carol, merchant)
    question = ask(client, alice)
    alices_answer = answer(client, alice, ask(client, carol)["question_id"])
    item = product(client, merchant)
    alices_review = review(client, alice, item["product_id"])
    post_id = publish(client, alice)
    assert call(client, "PUT", f"/users/{bob.user_id}/block", alice).status_code in (200, 204)
    refusals = [
        call(client, "POST", f"/questions/{question['question_id']}/answers", bob, {"body": "hi"}),
        call(client, "PUT", f"/answers/{alices_answer['answer_id']}/vote", bob, {"value": 1}),
        call(client, "PUT", f"/reviews/{alices_review['review_id']}/helpful", bob, {"value": True}),
        call(client, "POST", f"/posts/{post_id}/comments", bob, {"text": "hi"}),
    ]
    assert [r.status_code for r in refusals] == [403, 403, 403, 403], [r.data for r in refusals]
    # others still may
    assert call(client, "PUT", f"/answers/{alices_answer['answer_id']}/vote", merchant, {"value": 1}).status_code == 200
    assert call(client, "POST", f"/questions/{question['question_id']}/answers", carol,
                {"body": "ok"}).status_code == 201


# -- hostile input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "field"), [
    ({"target_type": "shop", "target_id": "x", "reason": "spam"}, "target_type"),
    ({"target_type": "post", "target_id": "", "reason": "spam"}, "target_id"),
    ({"target_type": "post", "target_id": "x" * 129, "reason": "spam"}, "target_id"),
    ({"target_type": "post", "target_id": "x", "reason": "   "}, "reason"),
    ({"target_type": "post", "target_id": "x", "reason": "r" * 501}, "reason"),
    ({"target_type": "post", "target_id": "x"}, "reason"),
    ({"target_type": "post", "target_id": 7, "reason": "spam"}, "target_id"),
    ({"target_type": "post", "target_id": "x", "reason": "spam", "severity": 9}, "severity"),
])
def test_bad_report_and_moderation_bodies_are_400_naming_the_field(client, users, body, field):
    someone = users("someone", groups=("admins",))
    for path, extra in (("/reports", {}), ("/admin/moderation", {"action": "remove"})):
        response = call(client, "POST", path, someone, {**body, **extra})
        assert response.status_code == 400, (path, response.data)
        assert response.data["Message"].startswith(f"{field}:"), (path, response.data)
    wrong_action = call(client, "POST", "/admin/moderation", someone,
                        {"target_type": "post", "target_id": "x", "reason": "spam", "action": "delete"})
    assert wrong_action.status_code == 400 and wrong_action.data["Message"].startswith("action:")


# -- a report storm on one target ---------------------------------------------------------------------
def _report_storm(reporters: int) -> None:
    """Reports written straight to their table, as the route writes them (no sign-up per reporter)."""
    from chalicelib.domain.moderation import report_key
    from chalicelib.models.moderation import Report

    with Report.batch_write() as batch:
        for n in range(reporters):
            batch.save(Report(report_key("post", "VIRAL", f"r{n}"), f"r{n}", target_type="post", target_id="VIRAL",
                              reason=f"reason {n:03d}", created_at=f"2026-11-30T00:00:{n % 60:02d}.{n:03d}Z"))


def test_a_report_storm_is_one_update_of_the_queue_item_per_99_reports_and_its_partitions_are_spread(tables, streams):
    from chalicelib.models.moderation import Report, ReportTarget
    from tests.support.writes import WritesTo

    _report_storm(150)
    with WritesTo(ReportTarget) as writes:
        streams.drain()
    assert int(ReportTarget.get("post#VIRAL").report_count) == 150
    assert writes.calls == 2  # one batch: 150 reports in two transactions (99 markers each at most)
    partitions = {report.report_key for n in range(150) for report in Report.by_reporter.query(f"r{n}")}
    assert len(partitions) == 16  # 10,000 reports a second: ~625 a second on each


def test_a_report_storm_counts_exactly_under_chaos(tables, chaos_streams):
    from chalicelib.models.moderation import ReportTarget

    _report_storm(100)
    chaos_streams.drain()
    chaos_streams.drain()
    assert int(ReportTarget.get("post#VIRAL").report_count) == 100
    assert ReportTarget.get("post#VIRAL").queue == "open"


def test_the_write_counter_is_one_update_a_write_even_at_a_new_window(tables):
    from chalicelib.models.effects import RateBucket
    from chalicelib.services import rate_limits
    from tests.support.writes import WritesTo

    minute = 1_800_000_000 - 1_800_000_000 % 60
    with WritesTo(RateBucket) as writes:
        assert rate_limits.consume_write("u2", now=minute + 1) is True  # the first of its window
        assert rate_limits.consume_write("u2", now=minute + 2) is False
        assert rate_limits.consume_write("u2", now=minute + 61) is True  # the next window
    assert writes.calls == 3
    # a guess another process made stale (its window counted elsewhere) costs one more call, no more
    rate_limits._LAST_WINDOW.clear()
    with WritesTo(RateBucket) as writes:
        assert rate_limits.consume_write("u2", now=minute + 62) is False
    assert writes.calls == 2
    assert int(RateBucket.get(rate_limits.writes_bucket("u2")).count) == 2
