"""Poll votes and tallies: a vote is one conditional write; the counts are summed from the votes' stream.

Layout and numbers in `chalicelib.domain.polls`. Writes: `cast_vote` (POST, once), `set_vote` (PUT:
cast or change), `withdraw_vote` (DELETE), each ONE write of the voter's own vote item, after one
read of the post (it exists, has a poll, is open, the option is in range); nothing is written on
the post. Counts: the PollVotes stream's batch effect `tally_poll_votes` sums a batch's vote
changes per tally item (one update per tally item per batch, exactly once under replay). Reads:
`reading_keys` / `readings` put a page's polls (the viewer's own votes and every tally item) into
the page's one BatchGetItem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.auth import Caller
from chalicelib.domain import polls
from chalicelib.domain.changes import BatchFailures, Change, per_batch
from chalicelib.domain.ids import epoch_seconds, now_iso
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.models.base import delete_if, get_or_404, save_if, update_if
from chalicelib.models.batches import write_batches
from chalicelib.models.posts import PollTally, PollVote, Post
from chalicelib.models.transactions import Transaction
from chalicelib.services.effects import sum_changes_once

#: A deleted post's tally items stay (empty, refusing updates) past the stream's 24-hour retention,
#: so a late record of one of its votes cannot bring a count back.
TOMBSTONE_SECONDS = 2 * 24 * 3600


# -- reading ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PollReading:
    """What a reader sees of one poll besides the post: its tally items' counts and their own vote."""

    tallies: tuple[Mapping[int, int], ...] = ()
    my_vote: int | None = None

    def counts(self, option_count: int) -> list[int]:
        return polls.sum_tallies(option_count, self.tallies)


@dataclass
class PollReads:
    """The keys a page's polls need in its one BatchGetItem, and what they gave.

    `known` holds votes the caller already knows (a vote just written): those are not read.
    """

    post_ids: Sequence[str]
    viewer_id: str
    known: Mapping[str, int | None] = field(default_factory=dict)

    def keys(self) -> list[tuple]:
        keys: list[tuple] = []
        for post_id in self.post_ids:
            if post_id not in self.known:
                keys.append((PollVote, polls.vote_key(post_id, self.viewer_id), self.viewer_id))
            keys += [(PollTally, key, None) for key in polls.tally_keys(post_id)]
        return keys

    def take(self, found: Iterator) -> dict[str, PollReading]:
        """Consume this reader's share of the batch's answers (in `keys()` order)."""
        readings = {}
        for post_id in self.post_ids:
            if post_id in self.known:
                my_vote = self.known[post_id]
            else:
                vote = next(found)
                my_vote = int(vote.option) if vote is not None else None
            tallies = tuple(tally.counts() if tally is not None else {} for tally in
                            (next(found) for _ in range(polls.TALLY_SHARDS)))
            readings[post_id] = PollReading(tallies, my_vote)
        return readings


# -- voting -----------------------------------------------------------------------------------------
def open_poll(post_id: str, option: int | None) -> Post:
    """The post whose poll is voted in, if it may be: 404 without one, 400 for an option out of range,
    409 once it has closed (every vote route makes the same checks, in this order)."""
    post = get_or_404(Post, post_id, what="post")
    if post.poll is None:
        raise NotFound(f"Post {post_id} has no poll")
    count = len(post.poll.options)
    if option is not None and not polls.option_in_range(option, count):
        raise BadRequest(f"option: must be from 0 to {count - 1}")
    if polls.is_closed(post.poll.closes_at, now_iso()):
        raise Conflict("This poll has closed", code="PollClosed")
    return post


def _vote_item(post_id: str, user_id: str) -> PollVote:
    return PollVote(polls.vote_key(post_id, user_id), user_id)


def cast_vote(caller: Caller, post_id: str, option: int) -> Post:
    """POST: the caller's first vote (a second is 409 `AlreadyVoted`). One conditional put.

    A vote is cast at the moment the service checked the poll was open (`created_at`), as the one
    transaction of before did: a vote on its way when the poll closes still counts.
    """
    post = open_poll(post_id, option)
    vote = _vote_item(post_id, caller.user_id)
    vote.post_id, vote.option, vote.created_at = post_id, option, now_iso()
    if not save_if(vote, PollVote.user_id.does_not_exist()):
        raise Conflict("You have already voted in this poll", code="AlreadyVoted")
    return post


def set_vote(caller: Caller, post_id: str, option: int) -> Post:
    """PUT: cast or change the caller's vote while the poll is open. One conditional update, which
    writes nothing (and moves no count) when the vote is already `option`."""
    post = open_poll(post_id, option)
    now = now_iso()
    update_if(_vote_item(post_id, caller.user_id),
              actions=[PollVote.post_id.set(post_id), PollVote.option.set(option),
                       PollVote.created_at.set(PollVote.created_at | now), PollVote.changed_at.set(now)],
              condition=PollVote.option.does_not_exist() | (PollVote.option != option))
    return post


def withdraw_vote(caller: Caller, post_id: str) -> None:
    """DELETE: the caller's vote goes while the poll is open; no vote to withdraw is no error."""
    open_poll(post_id, None)
    delete_if(_vote_item(post_id, caller.user_id), PollVote.user_id.exists())


# -- stream effects ---------------------------------------------------------------------------------
TALLY_EFFECT = "tally_poll_votes"


@dataclass(frozen=True)
class TallyItem:
    """One poll tally item as a key the batch's vote changes are summed into (`effects.sum_once`).

    Its write adds each option's summed delta (creating the item on a poll's first votes); it is
    refused on a deleted post's item (`deleted_at`), and then the records are dropped: nothing to
    count on.
    """

    key: str
    gone_if_false: bool = True

    def write(self, transaction: Transaction, label: str, deltas: Sequence[Any]) -> bool:
        summed = polls.sum_option_deltas(deltas)
        if summed:  # a net zero (a vote and its withdrawal in one batch) writes only the markers
            actions = [PollTally.option_attribute(option).add(delta) for option, delta in summed.items()]
            transaction.update(label, PollTally(self.key), actions=actions,
                               condition=PollTally.deleted_at.does_not_exist())
        return True


def tally_moves(change: Change) -> Iterable[tuple[TallyItem, str, dict[int, int]]]:
    """What one vote record does to its poll's tally: (tally item, effect id, {option: delta})."""
    vote = polls.vote_change(change.old, change.new)
    if vote is None:
        return []
    return [(TallyItem(key), change.effect_id(TALLY_EFFECT), by_option)
            for key, by_option in polls.tally_deltas([vote]).items()]


@per_batch
def tally_poll_votes(changes: Sequence[Change]) -> BatchFailures:
    """PollVotes stream, per batch: the vote changes summed per tally item, ONE write of each tally
    item per batch (with the records' markers: exactly once under any split and replay)."""
    return sum_changes_once(changes, tally_moves)


def poll_to_delete(change: Change) -> str | None:
    """Posts stream: the post whose poll goes with it (a deleted post that had a poll)."""
    if change.kind == "REMOVE" and change.item.get("poll"):
        return str(change.item["post_id"])
    return None


def delete_poll(change: Change) -> None:
    """Posts stream: a deleted post's poll goes, tallies first, then every vote shard's votes.

    The tally items are overwritten with a tombstone before the votes go, so the votes' removal
    records (and a late vote that raced the delete) move no count; they expire by TTL.
    """
    post_id = poll_to_delete(change)
    if post_id is None:
        return
    deleted_at, expires_at = now_iso(), epoch_seconds() + TOMBSTONE_SECONDS
    write_batches(PollTally, puts=[PollTally(key, deleted_at=deleted_at, expires_at=expires_at)
                                   for key in polls.tally_keys(post_id)])
    for vote_key in polls.vote_keys(post_id):
        voters = [vote.user_id for vote in PollVote.query(vote_key, attributes_to_get=["vote_key", "user_id"])]
        write_batches(PollVote, deletes=[PollVote(vote_key, user_id) for user_id in voters])
