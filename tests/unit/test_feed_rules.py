"""The feed's rules, without AWS."""


import pytest

from chalicelib.domain import feed as rules

T = 10_000  # FANOUT_PULL_THRESHOLD's default


def reach(count: int, pull: bool = False, audience: str = rules.KEPT) -> rules.Reach:
    return rules.Reach(follower_count=count, pull_mode=pull, audience=audience)


@pytest.mark.parametrize(("account", "plan"), [
    (reach(0), rules.PUSH),
    (reach(T), rules.PUSH),  # at the threshold: still pushed
    (reach(T + 1), rules.LIST),  # crossing: a job lists the author in every follower's pull list
    (reach(5, audience=rules.DROPPED), rules.LIST),  # an audience not kept is never pushed from
    (reach(T + 1, pull=True), rules.PULL),
    (reach(T - 1, pull=True), rules.PULL),  # hysteresis: under the threshold, still pulled
    (reach(9_000, pull=True), rules.PULL),  # 0.9 x T is not below it
    (reach(8_999, pull=True), rules.RETURN),  # below 0.9 x T with a kept audience: push again
    (reach(8_999, pull=True, audience=rules.DROPPED), rules.REBUILD),  # ... with a dropped one: rebuild first
    (reach(100, pull=True, audience=rules.BUILDING), rules.PULL),  # never from a half-built audience
])
def test_a_post_is_pushed_or_pulled_with_hysteresis_around_the_threshold(account, plan):
    assert rules.post_plan(account, T) == plan


@pytest.mark.parametrize(("account", "action"), [
    (reach(1), rules.JOIN),
    (reach(11_000), rules.JOIN),  # kept up to 1.1 x T, pull mode or not
    (reach(11_000, pull=True), rules.JOIN),
    (reach(11_001), rules.DROP),  # past it: no longer kept
    (reach(11_001, pull=True), rules.DROP),
    (reach(5, audience=rules.DROPPED), rules.SKIP),  # dropped stays dropped until a rebuild
    (reach(20_000, pull=True, audience=rules.BUILDING), rules.JOIN),  # a rebuild takes every follow
])
def test_a_follow_joins_the_audience_only_while_it_is_kept(account, action):
    assert rules.audience_on_follow(account, T) == action


def test_a_new_follower_is_pull_listed_whenever_a_post_might_not_reach_them_by_push():
    assert not rules.served_by_pull(reach(T), T)
    assert rules.served_by_pull(reach(T + 1), T)
    assert rules.served_by_pull(reach(T - 1, pull=True), T)
    assert rules.served_by_pull(reach(5, audience=rules.DROPPED), T)
    assert rules.served_by_pull(reach(5, pull=True, audience=rules.BUILDING), T)


def simulate(counts: list[int]) -> tuple[list[str], int]:
    """An account posting once at each follower count, its state moved the way the jobs move it
    (a crossing job sets pull mode, a rebuild job ends it). Returns the plans and the jobs started."""
    state, jobs, plans = reach(0), 0, []
    for count in counts:
        state = rules.Reach(count, state.pull_mode, state.audience)
        if rules.audience_on_follow(state, T) == rules.DROP:
            state = rules.Reach(count, state.pull_mode, rules.DROPPED)
        plan = rules.post_plan(state, T)
        plans.append(plan)
        if plan == rules.LIST:
            jobs += 1
            state = rules.Reach(count, True, state.audience)
        elif plan == rules.RETURN:
            state = rules.Reach(count, False, state.audience)
        elif plan == rules.REBUILD:
            jobs += 1
            state = rules.Reach(count, False, rules.KEPT)
    return plans, jobs


def test_an_account_hovering_at_the_threshold_does_not_flip():
    # Given an account whose follower count swings 5% either side of the threshold, post after post
    plans, jobs = simulate([T - 500, T + 500] * 50)
    # Then it crosses once and stays pulled: one job in 100 posts
    assert jobs == 1 and plans[:2] == [rules.PUSH, rules.LIST] and set(plans[2:]) == {rules.PULL}


def test_an_account_swinging_past_both_limits_flips_once_per_swing_and_rebuilds_only_if_dropped():
    # A swing between 0.85 T and 1.05 T: its audience is kept throughout, back to push with no rebuild
    plans, _ = simulate([8_500, 10_500, 8_500])
    assert plans == [rules.PUSH, rules.LIST, rules.RETURN]
    # A swing up to 1.2 T drops the audience: coming back needs a rebuild, then pushes
    plans, jobs = simulate([8_500, 12_000, 8_500, 8_500])
    assert plans == [rules.PUSH, rules.LIST, rules.REBUILD, rules.PUSH] and jobs == 2


def test_a_bucket_stays_under_one_write_unit_up_to_the_keep_limit():
    # ~37 bytes a Cognito sub in a string set, plus the item's keys and attribute names
    ids_per_bucket = rules.keep_limit(T) / rules.AUDIENCE_BUCKETS
    assert ids_per_bucket < 22 and 66 + 37 * ids_per_bucket < 1024


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
    position = rules.FeedPosition(reader="me", before=None, served=0, pulls=True)
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
    assert rules.next_position(page, rules.FeedPosition("me", None, 798, False), 800) is None
    assert rules.next_position(page, rules.FeedPosition("me", None, 0, False), 800) == rules.FeedPosition(
        "me", "4", 2, False)


def test_feed_cursor_round_trips_and_rejects_other_shapes_and_readers():
    position = rules.FeedPosition(reader="me", before="01ABC", served=40, pulls=True)
    assert rules.FeedPosition.from_cursor(position.to_cursor(), "me") == position
    assert rules.FeedPosition.from_cursor(None, "me") is None
    with pytest.raises(ValueError):
        rules.FeedPosition.from_cursor(position.to_cursor(), "someone-else")
    for bad in ({"r": "me", "b": 1, "n": 0, "p": False}, {"r": "me", "b": "x", "n": "0", "p": False},
                {"r": "me", "b": "x", "n": 0, "p": [1]}, {"r": "me", "b": "x", "n": 0, "p": ["a"]},
                {"r": "me", "b": "x", "n": 0, "p": 1}, {"follower_id": {"S": "x"}}):
        with pytest.raises(ValueError):
            rules.FeedPosition.from_cursor(bad, "me")


def test_a_follower_always_lands_in_the_same_audience_bucket():
    # crc32, not hash(): the same bucket in every process and after every deploy
    assert rules.audience_bucket("fan-00000") == 29
    assert rules.audience_bucket("b") == 505
    buckets = {rules.audience_bucket(f"user-{index}") for index in range(5000)}
    assert buckets <= set(range(rules.AUDIENCE_BUCKETS)) and len(buckets) == rules.AUDIENCE_BUCKETS


def test_audience_shards_are_contiguous_runs_of_buckets():
    assert rules.AUDIENCE_SHARDS * rules.BUCKETS_PER_SHARD == rules.AUDIENCE_BUCKETS
    assert [rules.audience_shard(b) for b in (0, 255, 256, 511)] == [0, 0, 1, 1]
    assert rules.audience_key("alice", 1) == "alice#1"
    assert rules.shard_ranges(0, 511) == [(0, 0, 255), (1, 256, 511)]
    assert rules.shard_ranges(256, 511) == [(1, 256, 511)]  # a 2,000-follower step: one shard
    assert rules.shard_ranges(200, 300) == [(0, 200, 255), (1, 256, 300)]
    assert rules.shard_ranges(7, 7) == [(0, 7, 7)]
    with pytest.raises(ValueError):
        rules.shard_ranges(0, 512)


@pytest.mark.parametrize(("followers", "expected"), [
    (0, 512), (1000, 512), (1001, 512), (2000, 256), (3000, 171), (10_000, 52), (10_000_000, 1),
])
def test_a_fan_out_step_reads_enough_buckets_for_about_a_page_of_followers(followers, expected):
    assert rules.buckets_per_step(followers, 1000) == expected


def test_feed_entries_built_in_bulk_are_what_the_model_would_write():
    from chalicelib.models.posts import FeedEntry

    built = FeedEntry.raw_items(["bob", "carol"], post_id="P1", author_id="alice", has_poll=True,
                                expires_at=1_800_000_000)
    expected = [FeedEntry(reader, "P1", author_id="alice", has_poll=True, expires_at=1_800_000_000).serialize()
                for reader in ("bob", "carol")]
    assert built == expected


def test_a_feed_cursor_never_carries_the_pull_list():
    # A reader following hundreds of large accounts has a cursor of the same size as anyone's
    # (it once carried the list, and passed API Gateway's header limit near 190 accounts)
    cursor = rules.FeedPosition(reader="me", before="01ABC", served=40, pulls=True).to_cursor()
    assert set(cursor) == {"r", "b", "n", "p"} and cursor["p"] is True


def test_every_entry_of_a_post_expires_a_ttl_after_the_post_however_late_it_was_written():
    from chalicelib.domain.ids import new_id

    post_id = new_id(at_ms=1_700_000_000_000)
    assert rules.post_entries_expire_at(post_id) == 1_700_000_000 + rules.FEED_ENTRY_TTL_SECONDS


def test_a_recent_posts_item_is_trimmed_to_its_newest_only_past_the_mark():
    ids = [f"{i:03d}" for i in range(rules.RECENT_POSTS_TRIM_AT)]
    assert rules.recent_to_drop(ids) == []
    ids.append("999")
    dropped = rules.recent_to_drop(ids)
    assert dropped == sorted(ids)[:len(ids) - rules.RECENT_POSTS_KEPT]
    assert set(ids) - set(dropped) == set(sorted(ids)[-rules.RECENT_POSTS_KEPT:])


def test_a_recent_posts_item_answers_only_what_it_knows():
    listed = ["010", "020", "030", "040"]
    # nothing ever dropped: the item lists every post, so fewer than asked is all there is
    assert rules.recent_below(listed, None, None, 3) == ["040", "030", "020"]
    assert rules.recent_below(listed, None, "025", 5) == ["020", "010"]
    # a trim dropped "005" and older: below "025" only "020" and "010" are known; 2 asked is fine...
    assert rules.recent_below(listed, "005", "025", 2) == ["020", "010"]
    # ...but 3 is not (an older post may exist): the caller must Query
    assert rules.recent_below(listed, "005", "025", 3) is None
    # a late record of a post older than the floor is not trusted to be the next one
    assert rules.recent_below(["001", *listed], "005", "015", 2) is None
