"""Notifications carry `read` and `actor`; the unread count is one read of a counter the
Notifications stream keeps exactly once; marking read works for some or all (issue #14)."""

from __future__ import annotations

import pytest

from bench import harness  # noqa: F401  (installs the DynamoDB call counter before any client exists)
from bench.harness import recording
from tests.support.advice import answer, ask
from tests.support.api import call


def _named(client, user, name: str):
    assert call(client, "PUT", "/me", user, {"display_name": name}).status_code == 200
    return user


def _notices(client, user, query: str = "") -> list[dict]:
    response = call(client, "GET", f"/me/notifications{query}", user)
    assert response.status_code == 200, response.data
    return response.data["items"]


def _unread(client, user) -> int:
    response = call(client, "GET", "/me/notifications/unread-count", user)
    assert response.status_code == 200, response.data
    return response.data["count"]


@pytest.fixture
def bob_told_twice(client, users, chaos_streams):
    """Bob has two notices: Alice followed him, then Carol answered his question (every stream
    record delivered at least twice, batches split at random)."""
    alice, bob, carol = (_named(client, users(n), n.title()) for n in ("alice", "bob", "carol"))
    assert call(client, "PUT", f"/users/{bob.user_id}/follow", alice).status_code == 200
    chaos_streams.drain()
    question = ask(client, bob)
    answer(client, carol, question["question_id"])
    chaos_streams.drain()
    return alice, bob, carol, chaos_streams


def test_notices_name_their_actor_with_a_card_and_start_unread(client, bob_told_twice):
    alice, bob, carol, _ = bob_told_twice
    # When bob lists his notifications
    notices = sorted(_notices(client, bob), key=lambda n: n["type"])  # one second's notices sort by cause
    # Then each is unread and names who caused it with a user card
    assert [(n["type"], n["read"]) for n in notices] == [("new_answer", False), ("new_follower", False)]
    assert notices[0]["actor"]["user_id"] == carol.user_id and notices[0]["actor"]["display_name"] == "Carol"
    assert notices[1]["actor"] == {"user_id": alice.user_id, "display_name": "Alice", "avatar_url": None,
                                   "expert": [], "merchant": None}
    # And the count, kept by the stream under replay, says 2 (not 4)
    assert _unread(client, bob) == 2


def test_marking_one_read_moves_it_and_the_count_once(client, bob_told_twice):
    _, bob, _, streams = bob_told_twice
    first, second = _notices(client, bob)
    # When bob marks the second one read, twice, with an unknown id among them
    for _ in range(2):
        response = call(client, "POST", "/me/notifications/read", bob,
                        {"notification_ids": [second["notification_id"], "0" * 26]})
        assert response.status_code == 204, response.data
    streams.drain()
    # Then it is read, the other is not, and the count went down by one
    assert [n["read"] for n in _notices(client, bob)] == [False, True]
    assert _unread(client, bob) == 1
    # And `?unread=true` lists only the unread one
    assert [n["notification_id"] for n in _notices(client, bob, "?unread=true")] == [first["notification_id"]]


def test_marking_all_read_is_one_write_and_later_notices_count_again(client, users, bob_told_twice):
    _, bob, _, streams = bob_told_twice
    # When bob marks all read
    with recording() as log:
        response = call(client, "POST", "/me/notifications/read", bob, {})
    assert response.status_code == 204, response.data
    # Then that was one write of the read state (plus the write limit's one), not one per notice
    assert log.by_operation().get("UpdateItem") == 2 and log.calls == 2, log.by_operation()
    streams.drain()
    assert [n["read"] for n in _notices(client, bob)] == [True, True]
    assert _unread(client, bob) == 0
    assert _notices(client, bob, "?unread=true") == []
    # When someone follows him later (a notice of a later moment: one of the same second as the
    # newest counted may sort below the watermark, and is then read from the start)
    from chalicelib.domain.ids import id_time_ms
    from chalicelib.services.graph_effects import notify_followee

    dan = _named(client, users("dan"), "Dan")
    later_ms = max(id_time_ms(n["notification_id"]) for n in _notices(client, bob)) + 1000
    notify_followee(bob.user_id, dan.user_id, later_ms)
    streams.drain()
    # Then only that one is unread
    notices = _notices(client, bob)
    assert [(n["actor"]["display_name"], n["read"]) for n in notices][0] == ("Dan", False)
    assert [n["read"] for n in notices[1:]] == [True, True]
    assert _unread(client, bob) == 1
    assert [n["actor"]["user_id"] for n in _notices(client, bob, "?unread=true")] == [dan.user_id]


def test_the_unread_count_is_one_getitem_and_a_page_at_most_three_calls(client, users, bob_told_twice):
    _, bob, _, _ = bob_told_twice
    with recording() as log:
        assert _unread(client, bob) == 2
    assert log.by_operation() == {"GetItem": 1}
    with recording() as log:
        _notices(client, bob)
    assert log.calls <= 3 and log.scans == 0, log.by_operation()
    with recording() as log:
        _notices(client, bob, "?unread=true")
    assert log.calls <= 3 and log.scans == 0, log.by_operation()


def test_someone_elses_notices_cannot_be_marked(client, users, bob_told_twice):
    alice, bob, _, streams = bob_told_twice
    ids = [n["notification_id"] for n in _notices(client, bob)]
    # When alice names bob's notices
    assert call(client, "POST", "/me/notifications/read", alice, {"notification_ids": ids}).status_code == 204
    streams.drain()
    # Then nothing of bob's changed
    assert [n["read"] for n in _notices(client, bob)] == [False, False]
    assert _unread(client, bob) == 2


@pytest.mark.parametrize("body", [{"notification_ids": []}, {"notification_ids": ["x"] * 101},
                                  {"notification_ids": "all"}, {"ids": []}])
def test_a_bad_mark_read_body_is_a_400(client, users, body):
    user = users()
    assert call(client, "POST", "/me/notifications/read", user, body).status_code == 400


def test_a_bad_unread_filter_is_a_400(client, users):
    assert call(client, "GET", "/me/notifications?unread=yes", users()).status_code == 400


def test_a_replayed_notice_keeps_the_read_flag_the_user_set(client, users, streams):
    from chalicelib.services.notifications import notify

    bob = users("bob")
    notify(bob.user_id, "expert_level", {"label": "camera", "level": 1}, cause="level-1", at_ms=1_760_000_000_000)
    streams.drain()
    [notice] = _notices(client, bob)
    assert notice["actor"] is None
    call(client, "POST", "/me/notifications/read", bob, {"notification_ids": [notice["notification_id"]]})
    streams.drain()
    # When the record that wrote it is delivered again
    notify(bob.user_id, "expert_level", {"label": "camera", "level": 1}, cause="level-1", at_ms=1_760_000_000_000)
    streams.drain()
    # Then it stays read, and the count stays at 0
    assert [n["read"] for n in _notices(client, bob)] == [True]
    assert _unread(client, bob) == 0
