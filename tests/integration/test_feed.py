"""The home feed through the real stream path: fan-out, upkeep, the hybrid merge and pagination."""

import pytest

from chalicelib.models.posts import FanoutJob, FeedEntry
from tests.support.api import call
from tests.support.posts import feed_of, follow, holders_of, publish, read_all, stored_feed, with_profiles


@pytest.fixture
def settings_env(monkeypatch):
    """Set stage variables for one test and forget the cached settings before and after."""
    from chalicelib.config import reset_settings

    def apply(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reset_settings()

    yield apply
    monkeypatch.undo()
    reset_settings()


def test_a_post_reaches_every_follower_and_the_author_but_no_one_else(client, users, streams):
    # Given alice with two followers and a stranger
    alice, bob, carol, dave = users("alice"), users("bob"), users("carol"), users("dave")
    with_profiles(client, alice, bob, carol, dave)
    follow(client, bob, alice)
    follow(client, carol, alice)
    streams.drain()
    # When alice posts
    post_id = publish(client, alice, "new lens!")
    streams.drain()
    # Then it is in her feed and her followers', not in the stranger's
    for reader in (alice, bob, carol):
        assert feed_of(client, reader) == [post_id]
    assert feed_of(client, dave) == []
    item = call(client, "GET", "/feed", bob).data["items"][0]
    assert item["author"]["user_id"] == alice.user_id
    assert item["author"]["display_name"]
    assert item["text"] == "new lens!"
    assert item["created_at"].endswith("Z")
    # And the fan-out recorded that it finished
    status = call(client, "GET", f"/posts/{post_id}/fanout", alice).data
    assert status["mode"] == "push" and status["done"] is True
    assert status["written"] == 2 and status["finished_at"]
    assert call(client, "GET", f"/posts/{post_id}/fanout", bob).status_code == 403
    assert call(client, "GET", "/posts/nope/fanout", bob).status_code == 404


def test_creating_a_post_is_one_write_whatever_the_follower_count(client, users, streams, monkeypatch):
    # Given an author with followers
    alice = users("alice")
    fans = [users() for _ in range(3)]
    with_profiles(client, alice, *fans)
    for fan in fans:
        follow(client, fan, alice)
    streams.drain()
    # When she posts, with every DynamoDB call the request makes recorded
    from botocore.client import BaseClient

    calls = []
    original = BaseClient._make_api_call

    def recording(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append((operation, next(iter(params.get("RequestItems", {})), params.get("TableName", ""))))
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    publish(client, alice)
    monkeypatch.undo()
    # Then the post is the one write to a table of the feature; nothing is fanned out in the request
    writes = [(op, table) for op, table in calls if op in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                                                           "TransactWriteItems")]
    feature_writes = [(op, table) for op, table in writes if not table.endswith("-rate-limits")]
    assert feature_writes == [("PutItem", "jianghu-test-posts")]


def test_circle_posts_stay_out_of_home_feeds(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    group_id = call(client, "POST", "/groups", alice, {"name": "Cams", "description": "", "label": "camera"}).data[
        "group_id"]
    streams.drain()
    # When alice posts in her circle and at home
    in_circle = publish(client, alice, "circle only", group_id=group_id)
    at_home = publish(client, alice, "for everyone")
    streams.drain()
    # Then only the home post reaches feeds
    assert feed_of(client, bob) == [at_home]
    assert feed_of(client, alice) == [at_home]
    assert in_circle not in stored_feed(bob.user_id)


def test_deleting_a_post_removes_it_from_every_feed(client, users, streams):
    alice = users("alice")
    fans = [users() for _ in range(4)]
    with_profiles(client, alice, *fans)
    for fan in fans:
        follow(client, fan, alice)
    streams.drain()
    kept, doomed = publish(client, alice, "kept"), publish(client, alice, "doomed")
    streams.drain()
    everyone = {alice.user_id, *(fan.user_id for fan in fans)}
    assert holders_of(doomed, everyone) == everyone
    # When alice deletes one
    assert call(client, "DELETE", f"/posts/{doomed}", alice).status_code == 204
    streams.drain()
    # Then no feed holds it any more, and the other is untouched
    assert holders_of(doomed, everyone) == set()
    for reader in (alice, *fans):
        assert feed_of(client, reader) == [kept]
        assert stored_feed(reader.user_id) == [kept]


def test_a_deleted_post_is_never_shown_even_before_its_entries_are_removed(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    streams.drain()
    post_id = publish(client, alice)
    streams.drain()
    # When the post is deleted and the stream has not run yet
    assert call(client, "DELETE", f"/posts/{post_id}", alice).status_code == 204
    assert stored_feed(bob.user_id) == [post_id]
    # Then the feed already leaves it out
    assert feed_of(client, bob) == []


def test_unfollowing_removes_that_authors_posts_only(client, users, streams):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    with_profiles(client, alice, bob, carol)
    follow(client, carol, alice)
    follow(client, carol, bob)
    streams.drain()
    from_alice, from_bob, own = publish(client, alice), publish(client, bob), publish(client, carol)
    streams.drain()
    assert feed_of(client, carol) == [own, from_bob, from_alice]
    # When carol unfollows alice
    assert call(client, "DELETE", f"/users/{alice.user_id}/follow", carol).status_code == 200
    streams.drain()
    # Then alice's post leaves carol's feed; bob's and her own stay
    assert feed_of(client, carol) == [own, from_bob]
    assert stored_feed(carol.user_id) == [own, from_bob]


def test_following_backfills_the_20_newest_posts(client, users, streams):
    # Given alice with 23 posts, and bob who does not follow her yet
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    posts = [publish(client, alice, f"post {i}") for i in range(23)]
    streams.drain()
    assert feed_of(client, bob) == []
    # When bob follows alice
    follow(client, bob, alice)
    streams.drain()
    # Then her 20 newest posts are in his feed, newest first
    assert feed_of(client, bob) == list(reversed(posts))[:20]


def test_a_block_removes_the_blocked_users_posts_from_the_blockers_feed(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    streams.drain()
    publish(client, alice)
    streams.drain()
    assert len(feed_of(client, bob)) == 1
    # When bob blocks alice
    assert call(client, "PUT", f"/users/{alice.user_id}/block", bob).status_code == 200
    streams.drain()
    # Then her posts are gone from his feed, and her next post does not reach him
    assert stored_feed(bob.user_id) == []
    publish(client, alice)
    streams.drain()
    assert feed_of(client, bob) == []


def test_fan_out_skips_a_follower_who_has_blocked_the_author(client, users, streams):
    """Checked before insert: a block whose stream effects have not run yet still keeps the post out."""
    from chalicelib.domain.ids import new_id, now_iso
    from chalicelib.models.graph import Block, Follow
    from chalicelib.models.posts import Post
    from chalicelib.services import audience, fanout

    alice, bob, carol = users("alice"), users("bob"), users("carol")
    with_profiles(client, alice, bob, carol)
    # Given bob and carol follow alice, and bob's block of alice is recorded but not yet acted on
    for fan in (bob, carol):
        Follow(fan.user_id, alice.user_id, created_at=now_iso()).save()
        audience.join(alice.user_id, fan.user_id)
    Block(bob.user_id, alice.user_id, created_at=now_iso()).save()
    post = {"post_id": new_id(), "author_id": alice.user_id, "created_at": now_iso()}
    Post(post["post_id"], author_id=alice.user_id, home_author_id=alice.user_id, text="hi",
         created_at=post["created_at"]).save()
    # When the fan-out of alice's post runs (its first step included)
    fanout.start_fan_out(post)
    assert not fanout.run_fan_out_step(post["post_id"], 0)  # a redelivery finds step 0 recorded
    # Then carol got it and bob did not
    assert stored_feed(carol.user_id) == [post["post_id"]]
    assert stored_feed(bob.user_id) == []
    assert FanoutJob.get(post["post_id"]).written == 1


def test_hybrid_feed_merges_large_accounts_at_read_time(client, users, streams, settings_env):
    # Given a pull threshold of 2 followers, a star with 3 followers and a small author
    settings_env(FANOUT_PULL_THRESHOLD=2)
    star, small, reader, fan1, fan2 = (users(n) for n in ("star", "small", "reader", "fan1", "fan2"))
    with_profiles(client, star, small, reader, fan1, fan2)
    for fan in (reader, fan1, fan2):
        follow(client, fan, star)
    follow(client, reader, small)
    streams.drain()
    assert call(client, "GET", f"/users/{star.user_id}", reader).data["follower_count"] == 3
    # When both post, interleaved
    star_posts, small_posts = [], []
    for i in range(5):
        star_posts.append(publish(client, star, f"star {i}"))
        small_posts.append(publish(client, small, f"small {i}"))
    own = publish(client, reader, "mine")
    streams.drain()
    # Then the star's posts were not fanned out: only the star's own feed holds them...
    assert stored_feed(reader.user_id) == [own] + list(reversed(small_posts))
    assert stored_feed(fan1.user_id) == []
    status = call(client, "GET", f"/posts/{star_posts[0]}/fanout", star).data
    assert status["mode"] == "pull" and status["done"] is True and status["written"] == 0
    # ...yet the reader's feed shows both sources merged newest first, page by page
    ids, pages = read_all(client, reader, limit=3)
    assert ids == sorted(star_posts + small_posts + [own], reverse=True)
    assert pages == 4
    assert feed_of(client, fan1) == list(reversed(star_posts))
    assert feed_of(client, star) == list(reversed(star_posts))


def test_feed_pages_have_no_duplicates_and_no_gaps(client, users, streams):
    reader = users("reader")
    authors = [users(f"author{i}") for i in range(3)]
    with_profiles(client, reader, *authors)
    for author in authors:
        follow(client, reader, author)
    streams.drain()
    published = [publish(client, authors[i % 3], f"post {i}") for i in range(14)]
    streams.drain()
    # When the reader pages through with limit 4
    ids, pages = read_all(client, reader, limit=4)
    # Then four pages hold every post once, newest first
    assert pages == 4
    assert ids == list(reversed(published))
    # And a page is bound to its list: a tampered cursor or another list's cursor is refused
    cursor = call(client, "GET", "/feed?limit=4", reader).data["next_cursor"]
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    assert call(client, "GET", f"/feed?cursor={tampered}", reader).status_code == 400
    other = call(client, "GET", f"/users/{authors[0].user_id}/posts?limit=1", reader).data["next_cursor"]
    assert call(client, "GET", f"/feed?cursor={other}", reader).status_code == 400
    assert call(client, "GET", f"/feed?cursor={cursor}", authors[0]).status_code == 400  # another reader's


def test_a_feed_shows_only_its_newest_window_and_entries_expire(client, users, streams, settings_env):
    # Given feeds that show 5 entries
    settings_env(FEED_MAX_ENTRIES=5)
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    streams.drain()
    posts = [publish(client, alice, f"post {i}") for i in range(8)]
    streams.drain()
    # Then the feed shows the 5 newest, across pages and in one page, and never more
    ids, _ = read_all(client, bob, limit=2)
    assert ids == list(reversed(posts))[:5]
    assert feed_of(client, bob) == list(reversed(posts))[:5]
    # And nothing is trimmed on write: every entry is stored, and carries a 30-day TTL instead
    assert stored_feed(bob.user_id) == list(reversed(posts))
    from chalicelib.domain.ids import epoch_seconds

    for entry in FeedEntry.query(bob.user_id):
        assert 29 * 86400 < int(entry.expires_at) - epoch_seconds() <= 30 * 86400


def test_an_entry_past_its_ttl_is_not_shown_before_dynamodb_deletes_it(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    streams.drain()
    old, new = publish(client, alice, "old"), publish(client, alice, "new")
    streams.drain()
    # When the older entry's TTL has passed (DynamoDB's deletion lags)
    FeedEntry(bob.user_id, old).update(actions=[FeedEntry.expires_at.set(1)])
    # Then bob's feed leaves it out; alice's own entry is still live
    assert feed_of(client, bob) == [new]
    assert feed_of(client, alice) == [new, old]


def test_chaotic_delivery_leaves_feeds_exactly_as_intended(client, users, chaos_streams):
    # Given a small graph built and changed while every batch is split and delivered twice
    alice, bob, carol, dave = users("alice"), users("bob"), users("carol"), users("dave")
    with_profiles(client, alice, bob, carol, dave)
    for reader in (bob, carol, dave):
        follow(client, reader, alice)
    follow(client, alice, bob)
    chaos_streams.drain()
    first, second, third = publish(client, alice, "1"), publish(client, alice, "2"), publish(client, bob, "b")
    doomed = publish(client, alice, "to delete")
    chaos_streams.drain()
    call(client, "DELETE", f"/posts/{doomed}", alice)
    call(client, "DELETE", f"/users/{alice.user_id}/follow", dave)
    follow(client, carol, bob)
    chaos_streams.drain()
    # Then every feed holds exactly what it should, once
    assert stored_feed(alice.user_id) == [third, second, first]
    assert stored_feed(bob.user_id) == [third, second, first]
    assert stored_feed(carol.user_id) == [third, second, first]
    assert stored_feed(dave.user_id) == []
    # And each fan-out counted its readers once
    assert FanoutJob.get(first).written == 3
    assert FanoutJob.get(third).written == 1
    assert FanoutJob.get(doomed).done
