"""Lists kept in sharded indexes, on moto: the leaderboard's shards, and the reads going at once."""

from __future__ import annotations

import threading

from chalicelib.domain.ids import now_iso
from chalicelib.domain.leaderboards import LEADERBOARD_SHARDS, leaderboard_key
from chalicelib.domain.sharded_lists import shard_of
from tests.support.advice import given_answer
from tests.support.api import call


def _upvotes(author_id: str, count: int, label: str = "camera") -> None:
    """`count` up-votes on one answer of `author_id`, as the vote route writes them."""
    from chalicelib.models.advice import AnswerVote

    given_answer(f"ans-{author_id}", author_id, (label,))
    for n in range(count):
        AnswerVote.of(f"ans-{author_id}", f"fan-{n}", value=1, author_id=author_id, question_id=f"q-{author_id}",
                   labels=[label], updated_at=now_iso()).save()


def test_the_leaderboard_pages_through_every_shard_highest_first_each_expert_once(client, users, streams):
    # Given nine experts in camera, in every shard, with scores 1..6 (some tied)
    from chalicelib.models.points import ExpertScore

    experts = {f"expert-{n}": 1 + n % 6 for n in range(9)}
    assert {shard_of(user_id, LEADERBOARD_SHARDS) for user_id in experts} == set(range(LEADERBOARD_SHARDS))
    for user_id, score in experts.items():
        _upvotes(user_id, score)
    streams.drain()
    # Then each score is listed in its user's shard of the label
    score = ExpertScore.get("expert-0", "camera")
    assert score.leaderboard_key == leaderboard_key("camera", "expert-0")
    # When a reader pages through the leaderboard two at a time
    reader, seen, cursor = users(), [], None
    while True:
        response = call(client, "GET", "/leaderboards/camera?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                        reader)
        assert response.status_code == 200, response.data
        assert len(response.data["items"]) <= 2
        seen += [(row["user_id"], row["score"]) for row in response.data["items"]]
        cursor = response.data["next_cursor"]
        if cursor is None:
            break
    # Then every expert comes exactly once, highest score first
    assert sorted(seen) == sorted(experts.items())
    assert [s for _, s in seen] == sorted(experts.values(), reverse=True)


def test_a_page_queries_every_shard_at_the_same_time(tables):
    # Given a sharded list (the question index), and shard reads that wait for one another
    from chalicelib.domain.advice import QUESTION_INDEX_SHARDS, question_list_partitions
    from chalicelib.models.advice import LabelIndexEntry
    from chalicelib.models.sharded import ShardedList, read_sharded_page
    from chalicelib.pagination import PageRequest

    partitions = question_list_partitions("camera")
    for shard, key in enumerate(partitions):
        LabelIndexEntry(key, f"0000{shard}").save()
    all_in_flight = threading.Barrier(QUESTION_INDEX_SHARDS, timeout=30)
    threads = set()

    def query_shard(shard, start, limit):
        threads.add(threading.get_ident())
        all_in_flight.wait()  # breaks (and the test fails) unless every shard's read is under way at once
        return LabelIndexEntry.query(partitions[shard], scan_index_forward=False, limit=limit,
                                     last_evaluated_key=start)

    listing = ShardedList(model=LabelIndexEntry, shard_partitions=[{"label_key": key} for key in partitions],
                          key_names=frozenset({"label_key", "item_id"}), order_key=lambda entry: entry.item_id)
    # When one page is read
    items, cursor = read_sharded_page(listing, query_shard, PageRequest(limit=10, position=None, scope="test"))
    # Then all four Queries were in flight together, each on its own thread, and merged newest first
    assert len(threads) == QUESTION_INDEX_SHARDS
    assert [entry.item_id for entry in items] == [f"0000{shard}" for shard in reversed(range(QUESTION_INDEX_SHARDS))]
    assert cursor is None
