"""`new_follower` notices: at most one per follower per followee per UTC day, and followers of the
same second grouped into one notice with `data.count` (issue #12, defect 7)."""

from __future__ import annotations

from tests.support.advice import notifications
from tests.support.api import call

DAY_MS = 24 * 3600 * 1000
NOON_MS = 1_760_000_000_000 - 1_760_000_000_000 % DAY_MS + DAY_MS // 2  # 12:00:00.000 UTC of some day


def test_following_and_unfollowing_ten_times_notifies_once(client, users, chaos_streams):
    alice, bob = users("alice"), users("bob")
    call(client, "GET", "/me", bob)
    # When alice follows and unfollows bob ten times (every record delivered at least twice)
    for _ in range(10):
        assert call(client, "PUT", f"/users/{bob.user_id}/follow", alice).status_code == 200
        chaos_streams.drain()
        assert call(client, "DELETE", f"/users/{bob.user_id}/follow", alice).status_code == 200
        chaos_streams.drain()
    # Then bob was told once, in the single-follower shape
    notices = notifications(client, bob, "new_follower")
    assert [n["data"] for n in notices] == [{"follower_id": alice.user_id}]


def test_followers_of_one_second_are_grouped_and_replays_count_once(client, users):
    from chalicelib.services.graph_effects import notify_followee

    star = users("star")
    fans = [f"fan-{n}" for n in range(5)]
    # When five accounts follow within one second, each record delivered three times
    for _ in range(3):
        for n, fan in enumerate(fans):
            notify_followee(star.user_id, fan, NOON_MS + 100 * n)
    # And one more follows in the next second, and the first fan again an hour later
    notify_followee(star.user_id, "late-fan", NOON_MS + 1000)
    notify_followee(star.user_id, fans[0], NOON_MS + 3600 * 1000)
    # Then the star has two notices: the second's five grouped, the next second's single one
    notices = notifications(client, star, "new_follower")
    assert [n["data"] for n in notices] == [{"follower_id": "late-fan"}, {"follower_id": fans[0], "count": 5}]


def test_the_same_follower_notifies_again_the_next_utc_day(client, users):
    from chalicelib.services.graph_effects import notify_followee

    star = users("star")
    notify_followee(star.user_id, "fan", NOON_MS)
    notify_followee(star.user_id, "fan", NOON_MS + DAY_MS // 2 - 1)  # 23:59:59.999 the same day
    notify_followee(star.user_id, "fan", NOON_MS + DAY_MS // 2)  # 00:00 the next day
    assert len(notifications(client, star, "new_follower")) == 2
