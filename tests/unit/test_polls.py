"""The rules of polls, without AWS."""

from datetime import UTC, datetime

import pytest

from chalicelib.domain import polls


def test_a_poll_closes_its_hours_after_creation_and_only_within_the_allowed_range():
    created = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert polls.closes_at(created, 24) == datetime(2024, 5, 2, 12, tzinfo=UTC)
    for hours in (0, 169):
        with pytest.raises(ValueError):
            polls.closes_at(created, hours)


def test_a_poll_is_closed_from_its_closing_moment_on():
    assert polls.is_closed("2024-05-02T12:00:00.000Z", "2024-05-02T12:00:00.000Z")
    assert not polls.is_closed("2024-05-02T12:00:00.000Z", "2024-05-02T11:59:59.999Z")


def test_only_an_integer_index_of_an_existing_option_is_a_vote():
    assert polls.option_in_range(0, 2) and polls.option_in_range(1, 2)
    assert not any(polls.option_in_range(value, 2) for value in (2, -1, True, "1", 1.0))


def test_the_tally_counts_unvoted_options_as_zero_and_shows_the_readers_vote():
    # Given two options, one never voted for, When a reader who voted for the first looks after the close
    seen = polls.tally([("red", None, 3), ("blue", "p-1", None)], "2024-05-02T12:00:00.000Z",
                       "2024-05-03T00:00:00.000Z", my_vote=0)
    # Then the counts are whole numbers, the poll shows closed, and their vote is marked
    assert [(o.text, o.product_id, o.votes) for o in seen.options] == [("red", None, 3), ("blue", "p-1", 0)]
    assert seen.closed and seen.my_vote == 0


# -- where votes and tallies live, and what a batch of vote changes does to the counts ----------------
def test_a_voters_vote_has_one_key_per_poll_and_a_poll_spreads_over_every_vote_shard():
    voters = [f"user-{n}" for n in range(400)]
    # Then a voter's key is the same every time, and names the poll
    assert polls.vote_key("P1", "user-1") == polls.vote_key("P1", "user-1")
    assert polls.vote_key("P1", "user-1").startswith("P1#")
    # And 400 voters use every vote shard, none with more than twice its share
    keys = [polls.vote_key("P1", voter) for voter in voters]
    assert set(keys) == set(polls.vote_keys("P1")) and len(polls.vote_keys("P1")) == polls.VOTE_SHARDS
    assert max(keys.count(key) for key in set(keys)) <= 2 * len(voters) / polls.VOTE_SHARDS
    # And each vote is counted in one of the poll's tally items, fixed per voter
    assert {polls.tally_key_of_vote("P1", voter) for voter in voters} == set(polls.tally_keys("P1"))


def test_the_option_count_fits_the_tally_items_attributes():
    from chalicelib.models.posts import PollTally

    for option in range(polls.MAX_OPTIONS):
        assert PollTally.option_attribute(option).attr_name == f"votes_{option}"


def test_a_vote_record_moves_counts_only_when_its_option_changes():
    vote = {"post_id": "P1", "user_id": "u1", "option": 1}
    assert polls.vote_change(None, vote) == polls.VoteChange("P1", "u1", None, 1)  # cast
    assert polls.vote_change(vote, {**vote, "option": 0}) == polls.VoteChange("P1", "u1", 1, 0)  # changed
    assert polls.vote_change(vote, None) == polls.VoteChange("P1", "u1", 1, None)  # withdrawn
    assert polls.vote_change(vote, {**vote, "changed_at": "x"}) is None  # the same option again
    assert polls.vote_change(None, None) is None


def test_a_batch_sums_to_one_delta_per_tally_item_and_leaves_out_what_cancels():
    # Given u1 casts 0 and changes to 2, u2 casts 1 then withdraws, u3 casts 1 (one batch)
    changes = [polls.VoteChange("P1", "u1", None, 0), polls.VoteChange("P1", "u2", None, 1),
               polls.VoteChange("P1", "u1", 0, 2), polls.VoteChange("P1", "u2", 1, None),
               polls.VoteChange("P1", "u3", None, 1)]
    deltas = polls.tally_deltas(changes)
    # Then every tally item named moves, option 0 and u2's vote cancel out, and the sums are the net
    assert set(deltas) <= set(polls.tally_keys("P1"))
    summed: dict[int, int] = {}
    for by_option in deltas.values():
        assert all(by_option.values())
        for option, delta in by_option.items():
            summed[option] = summed.get(option, 0) + delta
    assert {option: delta for option, delta in summed.items() if delta} == {1: 1, 2: 1}
    assert polls.tally_deltas([polls.VoteChange("P1", "u2", None, 1), polls.VoteChange("P1", "u2", 1, None)]) == {}


def test_a_poll_reads_as_the_sum_of_its_tally_items_never_below_zero():
    assert polls.sum_tallies(3, [{0: 2, 1: 1}, None, {1: 3, 2: -1}, {}]) == [2, 4, 0]
    assert polls.sum_tallies(2, [{0: 1, 3: 9}]) == [1, 0]  # an option past the poll's is ignored


# -- the tally effect's decisions, from plain change values -------------------------------------------
def test_each_vote_record_moves_its_voters_tally_item_by_the_options_before_and_after():
    from chalicelib.domain.changes import inserted, modified, removed
    from chalicelib.services.polls import TallyItem, tally_moves

    vote = {"vote_key": "P1#3", "user_id": "u1", "post_id": "P1", "option": 1, "created_at": "t"}
    item = TallyItem(polls.tally_key_of_vote("P1", "u1"))
    cast = inserted("PollVotes", vote, sequence_number="7")
    assert list(tally_moves(cast)) == [(item, "tally_poll_votes:PollVotes:7", {1: 1})]
    changed = modified("PollVotes", vote, {**vote, "option": 3}, sequence_number="8")
    assert list(tally_moves(changed)) == [(item, "tally_poll_votes:PollVotes:8", {1: -1, 3: 1})]
    assert list(tally_moves(removed("PollVotes", vote, sequence_number="9"))) == [
        (item, "tally_poll_votes:PollVotes:9", {1: -1})]
    assert list(tally_moves(modified("PollVotes", vote, {**vote, "changed_at": "u"}))) == []


def test_a_tally_items_write_adds_the_summed_deltas_and_nothing_when_they_cancel():
    from chalicelib.models.transactions import Transaction
    from chalicelib.services.polls import TallyItem

    item = TallyItem("P1#t0")
    cancelled = Transaction()
    assert item.write(cancelled, "key:0", [{1: 1}, {1: -1}]) is True and len(cancelled) == 0
    moved = Transaction()
    assert item.write(moved, "key:0", [{1: 1}, {1: -1, 2: 1}, {0: 1}]) is True and len(moved) == 1
    assert item.gone_if_false  # a deleted post's tally refuses the write: its records are dropped
