"""The reader's pull list: the large accounts a reader follows, kept in one item of their feed partition."""

import pytest

from bench import harness  # noqa: F401  (installs the DynamoDB call counter before any client exists)
from chalicelib.domain import feed as rules
from chalicelib.models.posts import FanoutJob, FeedPullList
from chalicelib.models.users import UserProfile
from chalicelib.services import fanout, feed
from tests.support.api import call
from tests.support.posts import feed_of, follow, publish, read_all, stored_feed, with_profiles


@pytest.fixture
def threshold(monkeypatch):
    """FANOUT_PULL_THRESHOLD for one test; cached settings forgotten before and after."""
    from chalicelib.config import reset_settings

    def apply(value: int):
        monkeypatch.setenv("FANOUT_PULL_THRESHOLD", str(value))
        reset_settings()

    yield apply
    monkeypatch.undo()
    reset_settings()


def big_star(client, users, streams, threshold, fans: int = 2):
    """A star followed by `fans` users with a pull threshold of 1, so the star is large."""
    threshold(1)
    star = users("star")
    others = [users(f"fan{i}") for i in range(fans)]
    with_profiles(client, star, *others)
    for fan in others:
        follow(client, fan, star)
    streams.drain()
    return star, others


def test_following_a_large_account_puts_it_in_the_readers_pull_list(client, users, streams, threshold):
    # Given a star who is already large (2 followers, threshold 1)
    star, _ = big_star(client, users, streams, threshold)
    star_post = publish(client, star, "hello fans")
    streams.drain()
    reader = users("reader")
    with_profiles(client, reader)
    # When a reader follows the star
    follow(client, reader, star)
    streams.drain()
    # Then the star is in the reader's pull list, nothing was copied, and the feed shows the star's post
    assert feed.pull_authors_of(reader.user_id) == [star.user_id]
    assert stored_feed(reader.user_id) == []
    assert feed_of(client, reader) == [star_post]


def test_unfollowing_or_blocking_removes_the_account_from_the_pull_list(client, users, streams, threshold):
    star, (fan0, fan1) = big_star(client, users, streams, threshold)
    publish(client, star, "hello fans")
    streams.drain()
    assert feed.pull_authors_of(fan0.user_id) == [star.user_id]
    # When fan0 unfollows and fan1 blocks the star
    assert call(client, "DELETE", f"/users/{star.user_id}/follow", fan0).status_code == 200
    assert call(client, "PUT", f"/users/{star.user_id}/block", fan1).status_code == 200
    streams.drain()
    # Then neither pull list holds the star, and neither feed shows the star's posts
    assert feed.pull_authors_of(fan0.user_id) == []
    assert feed.pull_authors_of(fan1.user_id) == []
    assert feed_of(client, fan0) == [] and feed_of(client, fan1) == []


def test_an_unfollow_of_a_small_account_creates_no_pull_list(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    streams.drain()
    assert call(client, "DELETE", f"/users/{alice.user_id}/follow", bob).status_code == 200
    streams.drain()
    with pytest.raises(FeedPullList.DoesNotExist):
        FeedPullList.get(bob.user_id, rules.pull_list_key(bob.user_id))


def test_crossing_the_threshold_lists_the_author_for_every_existing_follower_once(client, users, streams, threshold):
    # Given followers who followed the author while she was small
    alice = users("alice")
    fans = [users(f"fan{i}") for i in range(3)]
    with_profiles(client, alice, *fans)
    for fan in fans:
        follow(client, fan, alice)
    streams.drain()
    assert [feed.pull_authors_of(fan.user_id) for fan in fans] == [[], [], []]
    # When the threshold falls below her follower count and she posts
    threshold(1)
    first = publish(client, alice, "now I am big")
    streams.drain()
    # Then a one-time job listed her for every follower, and her profile is marked as served by pull
    assert [feed.pull_authors_of(fan.user_id) for fan in fans] == [[alice.user_id]] * 3
    job = FanoutJob.get(fanout.pull_list_job_id(first))
    assert job.done and job.mode == "pull-list" and int(job.written) == 3
    assert UserProfile.get(alice.user_id).pull_mode is True
    # And her next post starts no new job; every follower's feed shows both posts, merged at read time
    second = publish(client, alice, "again")
    streams.drain()
    with pytest.raises(FanoutJob.DoesNotExist):
        FanoutJob.get(fanout.pull_list_job_id(second))
    for fan in fans:
        assert feed_of(client, fan) == [second, first]
        assert stored_feed(fan.user_id) == []


def test_the_pull_list_is_never_shown_nor_counted_in_the_window(client, users, streams, threshold, monkeypatch):
    # Given a reader with a large account in their pull list, then 5 newer posts of a small author,
    # and a window of 4
    star, (reader, _) = big_star(client, users, streams, threshold)
    publish(client, star, "older, from the star")
    small = users("small")
    with_profiles(client, small)
    follow(client, reader, small)
    streams.drain()
    posts = [publish(client, small, f"small {i}") for i in range(5)]
    streams.drain()
    assert feed.pull_authors_of(reader.user_id) == [star.user_id]
    monkeypatch.setenv("FEED_MAX_ENTRIES", "4")
    from chalicelib.config import reset_settings

    reset_settings()
    # When the reader pages through
    ids, _ = read_all(client, reader, limit=3)
    first_page = call(client, "GET", "/feed?limit=3", reader).data
    # Then the window holds the 4 newest posts, the pull list is never an item, and a page is full
    assert ids == list(reversed(posts))[:4]
    assert [item["post_id"] for item in first_page["items"]] == list(reversed(posts))[:3]
    assert first_page["next_cursor"]


def test_a_first_feed_page_is_two_dynamodb_calls_for_a_reader_without_large_accounts(client, users, streams):
    from bench.harness import recording

    authors = [users(f"author{i}") for i in range(2)]
    reader = users("reader")
    with_profiles(client, reader, *authors)
    for author in authors:
        follow(client, reader, author)
    streams.drain()
    for author in authors:
        publish(client, author)
    streams.drain()
    with recording() as log:
        response = call(client, "GET", "/feed", reader)
    assert response.status_code == 200 and len(response.data["items"]) == 2
    assert log.by_operation() == {"Query": 1, "BatchGetItem": 1}


def test_pull_lists_are_exact_under_chaotic_delivery(client, users, chaos_streams, threshold):
    threshold(1)
    star, keeper, leaver = users("star"), users("keeper"), users("leaver")
    with_profiles(client, star, keeper, leaver)
    follow(client, keeper, star)
    follow(client, leaver, star)
    chaos_streams.drain()
    publish(client, star, "big now")
    chaos_streams.drain()
    call(client, "DELETE", f"/users/{star.user_id}/follow", leaver)
    chaos_streams.drain()
    assert feed.pull_authors_of(keeper.user_id) == [star.user_id]
    assert feed.pull_authors_of(leaver.user_id) == []


def test_an_unfollow_while_the_threshold_job_runs_does_not_leave_the_author_listed(client, users, streams, threshold,
                                                                                   monkeypatch):
    from chalicelib.domain.ids import new_id, now_iso
    from chalicelib.models.graph import Follow
    from chalicelib.services import audience

    # Given a small author with two followers, who then crosses the threshold with a post
    star, keeper, leaver = users("star"), users("keeper"), users("leaver")
    with_profiles(client, star, keeper, leaver)
    follow(client, keeper, star)
    follow(client, leaver, star)
    streams.drain()
    threshold(1)
    post = {"post_id": new_id(), "author_id": star.user_id, "created_at": now_iso()}
    fanout._start_pull_list_job(post, 2)
    # And the leaver unfollows just after the job's step has read the audience, before it writes:
    # the unfollow's stream effects (as graph_effects runs them) find nothing to take out yet
    read = audience.read

    def read_then_unfollow(*args):
        found = read(*args)
        Follow(leaver.user_id, star.user_id).delete()
        audience.leave(star.user_id, leaver.user_id)
        feed.remove_author_from_feed(leaver.user_id, star.user_id)
        return found

    monkeypatch.setattr(audience, "read", read_then_unfollow)
    # When the job's step runs
    assert fanout.run_fan_out_step(fanout.pull_list_job_id(post["post_id"]), 0)
    # Then only the one who still follows has the author listed, and only they were counted
    assert feed.pull_authors_of(keeper.user_id) == [star.user_id]
    assert feed.pull_authors_of(leaver.user_id) == []
    assert int(FanoutJob.get(fanout.pull_list_job_id(post["post_id"])).written) == 1
