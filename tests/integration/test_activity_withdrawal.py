"""Withdrawing a kind: a resumable job that survives a crash mid-way, and what it costs."""

from __future__ import annotations

import pytest

from chalicelib.domain import activity as rules
from chalicelib.domain.ids import iso, utc_now
from tests.support.activity import activity_holders, share
from tests.support.posts import given_followers, with_profiles


@pytest.fixture
def fresh_streams(tables):
    """A stream runner that starts from now: the graph written in bulk before it is not replayed."""
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    def start():
        return StreamRunner(app, tables.session, start_at_latest=True,
                            failures_queue_url=tables.outputs["StreamFailuresQueueUrl"])

    return start


def shared_reviews(user_id: str, count: int) -> list[str]:
    """`count` reviews of the user shared through the sharing path itself (the switch checked)."""
    from datetime import timedelta

    from chalicelib.services import activity

    now = utc_now()
    candidates = [rules.Shared(user_id=user_id, type=rules.REVIEW, source=f"review#R{index}",
                               created_at=iso(now - timedelta(seconds=count - index)), product_id=f"P{index}")
                  for index in range(count)]
    written = activity.share(candidates)
    assert len(written) == count
    return written


def test_a_crash_mid_withdrawal_resumes_and_leaves_no_entry_behind(client, users, fresh_streams, monkeypatch):
    from chalicelib.models import batches
    from chalicelib.services import activity, fanout

    # Given alice shares 7 reviews with 35 followers; withdrawal steps of 3 activities, removal
    # steps of about 10 followers
    monkeypatch.setattr(rules, "WITHDRAW_PAGE_SIZE", 3)
    monkeypatch.setattr(fanout, "REMOVAL_PAGE_SIZE", 10)
    alice = users("alice")
    with_profiles(client, alice)
    follower_ids = given_followers(alice.user_id, 35)
    streams = fresh_streams()
    share(client, alice, review=True)
    activity_ids = shared_reviews(alice.user_id, 7)
    streams.drain()
    assert all(activity_holders(a, follower_ids) == set(follower_ids) for a in activity_ids)
    # And the withdrawal's second step dies after marking its page, and one removal step dies
    # after deleting its entries
    original_write, original_delete = batches.write_batches, fanout.write_batches
    crashes = {"withdraw": 0, "remove": 0}

    def withdraw_dies_once(model, puts=(), deletes=(), items=()):
        result = original_write(model, puts=puts, deletes=deletes, items=items)
        if model.__name__ == "Activity":
            crashes["withdraw"] += 1
            if crashes["withdraw"] == 2:
                raise RuntimeError("the Lambda died here")
        return result

    def removal_dies_once(model, puts=(), deletes=(), items=()):
        result = original_delete(model, puts=puts, deletes=deletes, items=items)
        if deletes and crashes["remove"] == 0:
            crashes["remove"] = 1
            raise RuntimeError("the Lambda died here too")
        return result

    monkeypatch.setattr(batches, "write_batches", withdraw_dies_once)
    monkeypatch.setattr(fanout, "write_batches", removal_dies_once)
    # When she turns reviews off and the streams carry it (redelivering the failed records)
    share(client, alice, review=False)
    streams.drain()
    # Then the job finished after redoing the step that died, every activity is withdrawn, and no
    # follower's feed holds any of them
    job = activity.withdrawal_status(alice.user_id, rules.REVIEW)
    assert crashes == {"withdraw": 4, "remove": 1}  # 3 pages, the second twice
    assert job.done and int(job.steps) == 3
    assert activity.activities_of(alice.user_id) == []
    assert all(activity_holders(a, follower_ids) == set() for a in activity_ids)
    assert streams.set_aside == []


def test_what_was_not_yet_fanned_out_never_appears(client, users, fresh_streams, monkeypatch):
    from chalicelib.models.posts import FanoutJob
    from chalicelib.services import fanout

    # Given a review of alice's shared with 35 followers, whose fan-out (steps of ~10) has not run yet
    monkeypatch.setattr(fanout, "FANOUT_PAGE_SIZE", 10)
    alice = users("alice")
    with_profiles(client, alice)
    follower_ids = given_followers(alice.user_id, 35)
    streams = fresh_streams()
    share(client, alice, review=True)
    [activity_id] = shared_reviews(alice.user_id, 1)
    # When she turns reviews off before any stream record is delivered, and then they all are
    share(client, alice, review=False)
    streams.drain()
    # Then no follower ever holds it, and its fan-out ended cancelled or wrote nothing that stayed
    assert activity_holders(activity_id, follower_ids) == set()
    job = FanoutJob.get(activity_id)
    assert job.done


def test_a_source_record_replayed_after_a_withdrawal_shares_nothing_again(client, users):
    from chalicelib.services import activity

    # Given a shared review that alice then withdrew, with reviews still on
    alice = users("alice")
    share(client, alice, review=True)
    shared = rules.Shared(user_id=alice.user_id, type=rules.REVIEW, source="review#R9", created_at=iso(utc_now()),
                          product_id="P9")
    assert activity.share([shared]) == [shared.activity_id]
    activity.withdraw(alice.user_id, shared.activity_id)
    # When the review's stream record is delivered again
    again = activity.share([shared])
    # Then nothing is shared: the tombstone keeps the id taken
    assert again == [] and activity.activities_of(alice.user_id) == []
    # And with the kind off, a new review shares nothing either
    share(client, alice, review=False)
    other = rules.Shared(user_id=alice.user_id, type=rules.REVIEW, source="review#R10", created_at=iso(utc_now()))
    assert activity.share([other]) == []
