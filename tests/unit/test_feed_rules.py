"""The feed's rules, without AWS."""


import pytest

from chalicelib.domain import feed as rules


def test_authors_at_or_below_the_threshold_are_fanned_out():
    assert rules.fans_out(10_000, 10_000)
    assert not rules.fans_out(10_001, 10_000)


def test_chunks_are_at_most_25_long():
    sizes = [len(chunk) for chunk in rules.chunks(list(range(3000)))]
    assert sizes == [25] * 120
    assert [len(c) for c in rules.chunks(list(range(51)))] == [25, 25, 1]
    assert rules.chunks([]) == []
    with pytest.raises(ValueError):
        rules.chunks([1], 0)


def test_fanout_readers_skip_the_author_blockers_and_repeats():
    assert rules.fanout_readers(["a", "b", "author", "c", "b"], "author", {"c"}) == ["a", "b"]


def test_backoff_grows_and_is_capped():
    delays = [rules.backoff_seconds(attempt, jitter=1.0) for attempt in range(1, 10)]
    assert delays == sorted(delays)
    assert delays[0] == pytest.approx(0.05)
    assert max(delays) == 2.0
    assert rules.backoff_seconds(3, jitter=0.0) == pytest.approx(0.1)


def test_entries_expire_after_30_days_and_count_as_gone_once_past_it():
    assert rules.entry_expires_at(1_000) == 1_000 + 30 * 24 * 3600
    assert rules.is_expired(1_000, 1_000) and rules.is_expired(999, 1_000)
    assert not rules.is_expired(1_001, 1_000)
    assert not rules.is_expired(None, 1_000)  # entries written before expiry existed never expire


def test_the_pull_list_sorts_above_every_post_id_and_is_told_apart():
    key = rules.pull_list_key("reader-1")
    newest_ulid = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"
    assert key > newest_ulid and rules.entries_upper_bound() > newest_ulid
    assert key >= rules.entries_upper_bound()  # a "post_id < bound" condition leaves the pull list out
    assert key != rules.pull_list_key("reader-2")
    assert rules.is_pull_list_key(key) and not rules.is_pull_list_key(newest_ulid)


def test_merge_is_newest_first_without_duplicates():
    page = rules.merge_newest_first([["07", "05", "03"], ["06", "05", "01"]], 4)
    assert page.post_ids == ["07", "06", "05", "03"]
    assert page.has_more
    last = rules.merge_newest_first([["02"], []], 4)
    assert last.post_ids == ["02"] and not last.has_more


def test_merged_pages_cover_every_source_exactly_once():
    # Given two sources, and reading them the way read_feed does (limit + 1 below the boundary)
    feed = sorted((f"{i:03d}" for i in range(0, 40, 3)), reverse=True)
    pulled = sorted((f"{i:03d}" for i in range(1, 40, 4)), reverse=True)
    position = rules.FeedPosition(reader="me", before=None, served=0, pull=("star",))
    shown: list[str] = []
    pages = 0
    while position is not None:
        below = [p for p in feed if position.before is None or p < position.before]
        pulled_below = [p for p in pulled if position.before is None or p < position.before]
        page = rules.merge_newest_first([below[:5], pulled_below[:5]], 4)
        shown += page.post_ids
        pages += 1
        position = rules.next_position(page, position, window=800)
    # Then every post appears once, newest first
    assert shown == sorted(set(feed) | set(pulled), reverse=True)
    assert pages == -(-len(shown) // 4)


def test_a_feed_shows_no_more_than_its_window():
    assert rules.page_size(20, 790, 800) == 10
    assert rules.page_size(20, 800, 800) == 0
    page = rules.MergedPage(post_ids=["5", "4"], has_more=True)
    assert rules.next_position(page, rules.FeedPosition("me", None, 798, ()), 800) is None
    assert rules.next_position(page, rules.FeedPosition("me", None, 0, ()), 800) == rules.FeedPosition("me", "4", 2, ())


def test_feed_cursor_round_trips_and_rejects_other_shapes_and_readers():
    position = rules.FeedPosition(reader="me", before="01ABC", served=40, pull=("a", "b"))
    assert rules.FeedPosition.from_cursor(position.to_cursor(), "me") == position
    assert rules.FeedPosition.from_cursor(None, "me") is None
    with pytest.raises(ValueError):
        rules.FeedPosition.from_cursor(position.to_cursor(), "someone-else")
    for bad in ({"r": "me", "b": 1, "n": 0, "p": []}, {"r": "me", "b": "x", "n": "0", "p": []},
                {"r": "me", "b": "x", "n": 0, "p": [1]}, {"follower_id": {"S": "x"}}):
        with pytest.raises(ValueError):
            rules.FeedPosition.from_cursor(bad, "me")


def test_a_follower_always_lands_in_the_same_audience_bucket():
    # crc32, not hash(): the same bucket in every process and after every deploy
    assert rules.audience_bucket("fan-00000") == 29
    assert rules.audience_bucket("b") == 249
    buckets = {rules.audience_bucket(f"user-{index}") for index in range(5000)}
    assert buckets <= set(range(rules.AUDIENCE_BUCKETS)) and len(buckets) == rules.AUDIENCE_BUCKETS


@pytest.mark.parametrize(("followers", "expected"), [
    (0, 256), (1000, 256), (1001, 256), (2000, 128), (3000, 86), (10_000, 26), (10_000_000, 1),
])
def test_a_fan_out_step_reads_enough_buckets_for_about_a_page_of_followers(followers, expected):
    assert rules.buckets_per_step(followers, 1000) == expected


def test_feed_entries_built_in_bulk_are_what_the_model_would_write():
    from chalicelib.models.posts import FeedEntry

    built = FeedEntry.raw_items([("bob", "bob#alice"), ("carol", "carol#alice")], post_id="P1", author_id="alice",
                                created_at="2026-11-23T10:00:00Z", has_poll=True, expires_at=1_800_000_000)
    expected = [FeedEntry(reader, "P1", author_id="alice", reader_author=rules.reader_author(reader, "alice"),
                          created_at="2026-11-23T10:00:00Z", has_poll=True, expires_at=1_800_000_000).serialize()
                for reader in ("bob", "carol")]
    assert built == expected
