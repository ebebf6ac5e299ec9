"""Counters summed per batch (`services.effects.add_counts_once`): one write of a key per batch, each
record counted exactly once however often it comes, with conflicts and a gone item."""

from __future__ import annotations

from chalicelib.models.users import UserProfile
from chalicelib.services.effects import MARKERS_PER_TRANSACTION, add_counts_once
from tests.support.conflicts import ConflictInjector
from tests.support.writes import WritesTo


def _profile(user_id: str) -> UserProfile:
    profile = UserProfile(user_id)
    profile.save()
    return profile


def _count(user_id: str) -> int:
    return int(UserProfile.get(user_id, consistent_read=True).follower_count)


def _star(user_id: str):
    return lambda key: key.get("user_id") == user_id


def test_a_batch_of_follows_is_one_update_of_the_counter_and_a_replay_counts_nothing(tables):
    _profile("star")
    entries = [(f"follow:{n}", 1) for n in range(40)]
    # When 40 follows are summed, then the same batch comes again, then a bigger one overlapping it
    with WritesTo(UserProfile, _star("star")) as writes:
        assert add_counts_once({(UserProfile, "star", "follower_count"): entries}) == {}
    assert writes.calls == 1 and _count("star") == 40
    with WritesTo(UserProfile, _star("star")) as writes:
        assert add_counts_once({(UserProfile, "star", "follower_count"): entries}) == {}
    assert _count("star") == 40
    assert writes.calls == 1  # one cancelled attempt; nothing left to write after dropping the replays
    more = [*entries[20:], *[(f"follow:{n}", 1) for n in range(40, 50)], ("unfollow:3", -1)]
    assert add_counts_once({(UserProfile, "star", "follower_count"): more}) == {}
    # Then each record counted once
    assert _count("star") == 50 - 1


def test_more_records_than_a_transaction_holds_are_chunked_exactly(tables):
    _profile("star")
    records = 2 * MARKERS_PER_TRANSACTION + 5
    entries = [(f"follow:{n}", 1) for n in range(records)]
    with WritesTo(UserProfile, _star("star")) as writes:
        assert add_counts_once({(UserProfile, "star", "follower_count"): entries}) == {}
    assert writes.calls == 3 and _count("star") == records
    # a replay of a middle slice, with new ones after it
    again = [*entries[90:110], *[(f"follow:{n}", 1) for n in range(records, records + 7)]]
    assert add_counts_once({(UserProfile, "star", "follower_count"): again}) == {}
    assert _count("star") == records + 7


def test_many_cold_counters_share_transactions_and_a_gone_item_is_dropped_not_failed(tables):
    for n in range(60):
        _profile(f"fan{n}")
    deltas = {(UserProfile, f"fan{n}", "following_count"): [(f"follow:{n}", 1)] for n in range(60)}
    deltas[(UserProfile, "deleted-account", "following_count")] = [("follow:gone", 1)]
    with WritesTo(UserProfile) as writes:
        assert add_counts_once(deltas) == {}
    # 61 keys x (update + marker) in two transactions of at most 100 items; the one naming the gone
    # account is cancelled and sent again without it
    assert writes.calls == 3
    assert all(int(UserProfile.get(f"fan{n}").following_count) == 1 for n in range(60))
    assert UserProfile.count("deleted-account") == 0  # no stub item holding only a counter


def test_a_net_zero_writes_no_update_but_its_records_count_as_applied(tables):
    _profile("star")
    with WritesTo(UserProfile, _star("star")) as writes:
        assert add_counts_once({(UserProfile, "star", "follower_count"): [("follow:1", 1), ("unfollow:1", -1)]}) == {}
    assert writes.calls == 0
    # the follow alone, delivered again later, is not counted a second time
    assert add_counts_once({(UserProfile, "star", "follower_count"): [("follow:1", 1)]}) == {}
    assert _count("star") == 0


def test_conflicts_on_the_counter_are_retried_and_still_count_once(tables):
    _profile("star")
    entries = [(f"follow:{n}", 1) for n in range(30)]
    with ConflictInjector(seed=3) as conflicts:
        rule = conflicts.cancel(UserProfile, _star("star"), first=3)
        assert add_counts_once({(UserProfile, "star", "follower_count"): entries}) == {}
        assert add_counts_once({(UserProfile, "star", "follower_count"): entries[10:]}) == {}
    assert rule.injected == 3
    assert _count("star") == 30


def test_a_counter_that_stays_busy_fails_only_its_records(tables):
    from chalicelib.errors import Busy
    from chalicelib.models.transactions import ATTEMPTS

    _profile("star")
    _profile("fan")
    # the star's counter fills a transaction of its own; the fan's sits in the next one
    star = [(f"follow:{n}", 1) for n in range(MARKERS_PER_TRANSACTION)]
    with ConflictInjector() as conflicts:
        conflicts.cancel(UserProfile, _star("star"), first=ATTEMPTS)
        failed = add_counts_once({(UserProfile, "star", "follower_count"): star,
                                  (UserProfile, "fan", "following_count"): [("fan-follows", 1)]})
    assert set(failed) == {effect_id for effect_id, _ in star}
    assert all(isinstance(exc, Busy) for exc in failed.values())
    assert int(UserProfile.get("fan").following_count) == 1 and _count("star") == 0
    # redelivered, they count once
    assert add_counts_once({(UserProfile, "star", "follower_count"): star}) == {}
    assert _count("star") == MARKERS_PER_TRANSACTION
