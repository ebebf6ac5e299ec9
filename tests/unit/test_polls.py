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
