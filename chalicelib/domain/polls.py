"""The rules of a post's poll, in plain Python: its size, when it closes, which votes count, its tally.

Double-11 layout (SPEC "Double-11 rules": 5,000 votes a second on one poll, no key over 1,000
WCU/s or 50 transactions/s). A vote is ONE conditional write of the voter's own item, whose
partition key is `<post_id>#<vote shard>` with the shard from the voter's id: a poll's votes spread
over `VOTE_SHARDS` partitions, and the caller's own vote is one GetItem on a key the reader can
name. Nothing is written on the post. The counts live in `TALLY_SHARDS` tally items per poll
(`<post_id>#t<k>`), kept from the votes' stream: a batch's vote changes are summed per tally item
(`tally_deltas`) and written as one update per tally item per batch. A reader sums the tally items
(`sum_tallies`): the counts may trail the votes by seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.sharded_lists import shard_key, shard_keys, stable_shard

MIN_OPTIONS, MAX_OPTIONS = 2, 4
MIN_HOURS, MAX_HOURS, DEFAULT_HOURS = 1, 168, 24

#: Partitions a poll's votes spread over: 5,000 votes/s × 1 WCU / 16 ≈ 313 WCU/s on each.
VOTE_SHARDS = 16
#: Tally items per poll. Each takes one update per stream batch that holds votes of its vote
#: shards; at the stream's few dozen batches a second they stay far below 50 transactions/s each.
TALLY_SHARDS = 4


def closes_at(created: datetime, hours: int) -> datetime:
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise ValueError(f"closes_in_hours must be from {MIN_HOURS} to {MAX_HOURS}")
    return created + timedelta(hours=hours)


def is_closed(closes_at_iso: str, now_iso: str) -> bool:
    """ISO 8601 UTC strings of one format compare in time order."""
    return now_iso >= closes_at_iso


def option_in_range(option: Any, option_count: int) -> bool:
    return isinstance(option, int) and not isinstance(option, bool) and 0 <= option < option_count


# -- where votes and tallies live -------------------------------------------------------------------
def vote_shard(user_id: str) -> int:
    """The vote shard (0 .. VOTE_SHARDS-1) of a voter: a hash of their id, the same for every poll."""
    return stable_shard(user_id, VOTE_SHARDS)


def vote_key(post_id: str, user_id: str) -> str:
    """The partition key of `user_id`'s vote in the poll of `post_id`."""
    return shard_key(post_id, vote_shard(user_id))


def vote_keys(post_id: str) -> list[str]:
    """Every partition key of a poll's votes (to remove them all)."""
    return shard_keys(post_id, VOTE_SHARDS)


def tally_key(post_id: str, tally_shard: int) -> str:
    return f"{post_id}#t{tally_shard}"


def tally_keys(post_id: str) -> list[str]:
    return [tally_key(post_id, shard) for shard in range(TALLY_SHARDS)]


def tally_key_of_vote(post_id: str, user_id: str) -> str:
    """The tally item a voter's vote is counted in: fixed per voter, so a change or a withdrawal
    moves the same item as the vote it undoes."""
    return tally_key(post_id, vote_shard(user_id) % TALLY_SHARDS)


# -- counting ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VoteChange:
    """One vote item's change, from its stream record: the option before and after (None: no vote)."""

    post_id: str
    user_id: str
    before: int | None
    after: int | None


def vote_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> VoteChange | None:
    """From a vote item's old and new images; None when the record moves no count."""
    item = new or old
    if not item:
        return None
    before = int(old["option"]) if old and old.get("option") is not None else None
    after = int(new["option"]) if new and new.get("option") is not None else None
    if before == after:
        return None
    return VoteChange(str(item["post_id"]), str(item["user_id"]), before, after)


def tally_deltas(changes: Iterable[VoteChange]) -> dict[str, dict[int, int]]:
    """What a batch of vote changes does to each tally item: `{tally key: {option: delta}}`.

    Options whose deltas cancel out are left out, and so is a tally item with nothing left to move.
    """
    deltas: dict[str, list[dict[int, int]]] = defaultdict(list)
    for change in changes:
        moved = {change.before: -1} if change.before is not None else {}
        if change.after is not None:
            moved[change.after] = moved.get(change.after, 0) + 1
        deltas[tally_key_of_vote(change.post_id, change.user_id)].append(moved)
    summed = {key: sum_option_deltas(by_option) for key, by_option in deltas.items()}
    return {key: by_option for key, by_option in summed.items() if by_option}


def sum_option_deltas(deltas: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Several `{option: delta}` summed into one, options that net to zero left out."""
    summed: dict[int, int] = defaultdict(int)
    for by_option in deltas:
        for option, delta in by_option.items():
            summed[option] += delta
    return {option: delta for option, delta in sorted(summed.items()) if delta}


def sum_tallies(option_count: int, tallies: Iterable[Mapping[int, int] | None]) -> list[int]:
    """The counts of a poll's options from its tally items (a missing item counts nothing).

    A vote's records share its partition key, so its stream delivers a withdrawal after the vote
    it undoes and no sum goes below zero; the floor only keeps a reader from ever seeing one.
    """
    totals = [0] * option_count
    for tally in tallies:
        for option, votes in (tally or {}).items():
            if 0 <= option < option_count:
                totals[option] += int(votes or 0)
    return [max(0, votes) for votes in totals]


# -- the view ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OptionCount:
    text: str
    product_id: str | None
    votes: int


@dataclass(frozen=True)
class Tally:
    """A poll as one reader sees it at `now`: the counts, whether it has closed, their own vote."""

    options: tuple[OptionCount, ...]
    closes_at: str
    closed: bool
    my_vote: int | None


def tally(options: Iterable[tuple[str, str | None, int | None]], closes_at_iso: str, now_iso: str,
          my_vote: int | None) -> Tally:
    """`options` as (text, product id, votes so far); an option nobody has voted for counts 0."""
    return Tally(
        options=tuple(OptionCount(text, product_id, int(votes or 0)) for text, product_id, votes in options),
        closes_at=closes_at_iso,
        closed=is_closed(closes_at_iso, now_iso),
        my_vote=my_vote,
    )
