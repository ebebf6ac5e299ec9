"""Reward calculation on the advice streams: every award is a ledger entry, written exactly once.

Batch effects (`domain.changes.per_batch`): a batch's records are settled per user, in stream order.
For each user the wallet is read once, then the standing awards of the causes the batch moves (one
consistent batched read); `domain.points.settle` decides each record's postings in order (caps,
floors, debts, exact reversals), and the batch is written as ONE TransactWrite per 99 causes:
the wallet (conditional on the revision it read, bumped) and each moved cause's standing award.
The ledger entries follow, as plain puts of ids derived from their record (a re-put writes the
same item). So a vote storm on one answer costs its author's wallet one write per 99 voters a
batch, not one transaction per vote.

- Exactly once: a cause's records (one vote, mark or answer item) arrive in stream order, and its
  standing award keeps `last_sequence`, the last record applied to it, written in the wallet's
  transaction. A redelivered record at or below it changes nothing; it only re-puts the entries the
  standing still lists as `posted` (the write after the transaction may have been lost).
- A wallet changed by someone else meanwhile (a coupon redemption bumps `revision` too) fails the
  revision condition and the batch is settled again from fresh reads; what was committed is skipped.
- The wallet is read before the standing awards: every standing award is only ever written together
  with a new wallet revision, so a stale standing read always shows up as a stale revision.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.changes import BatchFailures, Change, is_erasure, per_batch
from chalicelib.domain.points import (
    Award,
    Purse,
    Standing,
    Transition,
    acceptance_transitions,
    helpful_transitions,
    settle,
    utc_day,
    vote_transitions,
)
from chalicelib.models.base import batch_get
from chalicelib.models.points import LedgerEntry, StandingAward, Wallet
from chalicelib.models.transactions import MAX_ITEMS, Transaction, retry_on_conflict
from chalicelib.services.points import new_entry, purse_of, read_wallet

CAUSES_PER_TRANSACTION = MAX_ITEMS - 1  # the wallet and up to 99 standing awards

Transitions = Callable[[Mapping[str, Any] | None, Mapping[str, Any] | None], list[Transition]]


@per_batch
def award_for_vote_change(changes: Sequence[Change]) -> BatchFailures:
    """AnswerVotes stream: +10 / -2 to the answer's author; changes and withdrawals reverse exactly."""
    return _award(changes, vote_transitions)


@per_batch
def award_for_acceptance(changes: Sequence[Change]) -> BatchFailures:
    """Answers stream: acceptance gives +15 to the answerer and +2 to the asker; moving it reverses both."""
    return _award(changes, acceptance_transitions)


@per_batch
def award_for_helpful_mark(changes: Sequence[Change]) -> BatchFailures:
    """HelpfulMarks stream: +5 to the reviewer while the mark stands."""
    return _award(changes, helpful_transitions)


@dataclass(frozen=True)
class Step:
    """One record's transition of one user's award for one cause."""

    transition: Transition
    effect_id: str  # names the record's entries
    at: datetime
    sequence: str | None  # the stream record's sequence number (None: not from a stream)


def _award(changes: Sequence[Change], transitions_of: Transitions) -> BatchFailures:
    steps: dict[str, list[tuple[str, Step]]] = {}
    for change in changes:
        if is_erasure(change):  # an erased account's votes and marks: the points they gave stand
            continue
        for transition in transitions_of(change.old, change.new):
            step = Step(transition, change.effect_id(f"points:{transition.user_id}:{transition.cause}"),
                        change.created_at, change.sequence_number)
            steps.setdefault(transition.user_id, []).append((change.sequence_number, step))
    failed: BatchFailures = {}
    for user_id, user_steps in steps.items():
        try:
            settle_steps(user_id, [step for _, step in user_steps])
        except Exception as exc:  # this user's records are delivered again; the others' stand
            failed.update(dict.fromkeys((sequence for sequence, _ in user_steps), exc))
    return failed


def settle_cause(user_id: str, cause: str, award: Award | None, *, effect_id: str, at: datetime, ref: str,
                 sequence: str | None = None) -> bool:
    """Make `award` the standing award of `cause` for `user_id`; False if this record was already applied."""
    return settle_steps(user_id, [Step(Transition(user_id, cause, award, ref), effect_id, at, sequence)]) > 0


def settle_steps(user_id: str, steps: Sequence[Step]) -> int:
    """Settle `steps` (one user's, in stream order) exactly once; how many were applied now."""
    causes = list(dict.fromkeys(step.transition.cause for step in steps))

    def attempt() -> int:
        wallet = read_wallet(user_id)
        keys = [(StandingAward, StandingAward.partition(user_id, cause), cause) for cause in causes]
        held: dict[str, StandingAward | None] = dict(zip(causes, batch_get(keys, consistent=True), strict=True))
        owed: dict[str, LedgerEntry] = {}
        fresh = []
        for step in steps:
            standing = held[step.transition.cause]
            if standing is not None and _applied(standing, step.sequence):
                owed.update((entry.entry_id, entry) for entry in _posted(user_id, standing))
            else:
                fresh.append(step)
        _put_entries(list(owed.values()))  # a lost write after an earlier commit
        purse = purse_of(wallet)
        revision = None if wallet is None else int(wallet.revision or 0)
        for chunk in _chunks(fresh):
            purse, written, entries = _settle_chunk(user_id, purse, held, chunk)
            _commit(user_id, revision, purse, written)
            revision = (revision or 0) + 1
            held.update(written)
            _put_entries(entries)
        return len(fresh)

    return retry_on_conflict(attempt, what=f"the wallet of {user_id}")


def _applied(standing: StandingAward, sequence: str | None) -> bool:
    last = standing.last_sequence
    if sequence is None or last is None:
        return False
    if sequence.isdigit() and last.isdigit():
        return int(sequence) <= int(last)
    return sequence == last


def _chunks(steps: list[Step]) -> list[list[Step]]:
    """Runs of steps in order, each moving at most `CAUSES_PER_TRANSACTION` causes."""
    chunks: list[list[Step]] = []
    causes: set[str] = set()
    for step in steps:
        cause = step.transition.cause
        if not chunks or (cause not in causes and len(causes) == CAUSES_PER_TRANSACTION):
            chunks.append([])
            causes = set()
        chunks[-1].append(step)
        causes.add(cause)
    return chunks


def _standing_of(held: StandingAward | None) -> Standing | None:
    if held is None or not held.stands:
        return None
    return Standing(int(held.amount), held.reason, held.day, bool(held.capped))


def _settle_chunk(user_id: str, purse: Purse, held: Mapping[str, StandingAward | None], chunk: list[Step]
                  ) -> tuple[Purse, dict[str, StandingAward], list[LedgerEntry]]:
    """Each step settled in order: the purse after them, the standing awards to write, their entries."""
    written: dict[str, StandingAward] = {}
    entries: list[LedgerEntry] = []
    for step in chunk:
        transition = step.transition
        current = written.get(transition.cause) or held.get(transition.cause)
        day = utc_day(step.at)
        outcome = settle(purse, _standing_of(current), transition.award, day)
        purse = outcome.purse
        at_ms = int(step.at.timestamp() * 1000)
        made = [
            new_entry(user_id, at_ms=at_ms, cause=f"{step.effect_id}#{index}", amount=posting.amount,
                      reason=posting.reason, ref=transition.ref, sequence=step.sequence, index=index)
            for index, posting in enumerate(outcome.postings)
        ]
        entries.extend(made)
        owed = list(written[transition.cause].posted) if transition.cause in written else []
        owed.extend(json.dumps(_entry_fields(entry)) for entry in made)
        standing = outcome.standing
        written[transition.cause] = StandingAward(
            StandingAward.partition(user_id, transition.cause), transition.cause,
            amount=standing.amount if standing else 0,
            reason=standing.reason if standing else outcome.postings[-1].reason,
            day=standing.day if standing else day,
            capped=standing.capped if standing else False,
            stands=standing is not None,
            last_sequence=step.sequence,
            posted=owed,
        )
    return purse, written, entries


def _entry_fields(entry: LedgerEntry) -> dict:
    return {"entry_id": entry.entry_id, "amount": int(entry.amount), "reason": entry.reason, "ref": entry.ref,
            "created_at": entry.created_at}


def _posted(user_id: str, standing: StandingAward) -> list[LedgerEntry]:
    entries = []
    for text in standing.posted or ():
        fields = json.loads(text)
        entry_id = fields.pop("entry_id")
        entries.append(LedgerEntry(LedgerEntry.partition(user_id, entry_id), entry_id, **fields))
    return entries


def _put_entries(entries: list[LedgerEntry]) -> None:
    """Plain puts (BatchWriteItem): each id is derived from its record, so a re-put rewrites the same entry."""
    if not entries:
        return
    with LedgerEntry.batch_write() as batch:
        for entry in entries:
            batch.save(entry)


def _commit(user_id: str, revision: int | None, purse: Purse, standings: Mapping[str, StandingAward]) -> None:
    """The wallet (locked on the revision read) and the moved standing awards, as one unit."""
    transaction = Transaction()
    for standing in standings.values():
        transaction.put("standing", standing)
    if revision is None:
        condition = Wallet.user_id.does_not_exist()
    else:
        condition = Wallet.revision == revision
        if revision == 0:
            condition = condition | Wallet.revision.does_not_exist()
    transaction.update(
        "wallet",
        Wallet(user_id),
        actions=[
            Wallet.balance.set(purse.balance),
            Wallet.lifetime_earned.set(purse.lifetime_earned),
            Wallet.capped_today.set(dict(purse.capped_by_day)),
            Wallet.revision.set((revision or 0) + 1),
        ],
        condition=condition,
        retry_if_false=True,
    )
    transaction.commit()
