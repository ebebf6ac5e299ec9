"""Reward calculation on the advice streams: every award is a ledger entry, written exactly once.

For each (user, cause) a change moves, `settle_cause` reads the wallet and the cause's standing
award, lets `domain.points.settle` decide the postings, and writes in ONE TransactWrite:
the effect marker (via `commit_once`), the ledger entries (each conditional on not existing, keyed
by the stream record), the standing award, and the wallet (conditional on the revision it read).

- A redelivered record finds its marker or its entries and changes nothing.
- A wallet changed by someone else meanwhile (another stream, a coupon redemption, which bumps
  `revision` too) fails the revision condition and the whole settlement is computed again.
- The wallet is read before the standing award: every standing award is only ever written
  together with a new wallet revision, so a stale standing read always shows up as a stale revision.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.points import (
    Award,
    Settlement,
    Standing,
    Transition,
    acceptance_transitions,
    helpful_transitions,
    settle,
    utc_day,
    vote_transitions,
)
from chalicelib.models.points import LedgerEntry, StandingAward, Wallet
from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict
from chalicelib.services.effects import commit_once
from chalicelib.services.points import new_entry, purse_of, read_wallet
from chalicelib.streams.events import Change

ENTRY = "ledger entry"  # the label of a settlement's ledger entries


def on_answer_vote_change(change: Change) -> None:
    """AnswerVotes stream: +10 / -2 to the answer's author; changes and withdrawals reverse exactly."""
    _apply(vote_transitions(change.old, change.new), change)


def on_answer_change(change: Change) -> None:
    """Answers stream: acceptance gives +15 to the answerer and +2 to the asker; moving it reverses both."""
    _apply(acceptance_transitions(change.old, change.new), change)


def on_helpful_mark_change(change: Change) -> None:
    """HelpfulMarks stream: +5 to the reviewer while the mark stands."""
    _apply(helpful_transitions(change.old, change.new), change)


def _apply(transitions: list[Transition], change: Change) -> None:
    for transition in transitions:
        settle_cause(
            transition.user_id,
            transition.cause,
            transition.award,
            effect_id=change.effect_id(f"points:{transition.user_id}:{transition.cause}"),
            at=change.created_at,
            ref=transition.ref,
            sequence=change.sequence_number,
        )


def _standing_of(user_id: str, cause: str) -> StandingAward | None:
    try:
        return StandingAward.get(StandingAward.partition(user_id), cause, consistent_read=True)
    except StandingAward.DoesNotExist:
        return None


def settle_cause(user_id: str, cause: str, award: Award | None, *, effect_id: str, at: datetime, ref: str,
                 sequence: str | None = None) -> bool:
    """Make `award` the standing award of `cause` for `user_id`; False if this effect was already written."""
    day = utc_day(at)
    at_ms = int(at.timestamp() * 1000)

    def attempt() -> bool:
        wallet = read_wallet(user_id)
        held = _standing_of(user_id, cause)
        standing = Standing(int(held.amount), held.reason, held.day, bool(held.capped)) if held else None
        outcome = settle(purse_of(wallet), standing, award, day)
        entries = [
            new_entry(user_id, at_ms=at_ms, cause=f"{effect_id}#{index}", amount=posting.amount,
                      reason=posting.reason, ref=ref, sequence=sequence, index=index)
            for index, posting in enumerate(outcome.postings)
        ]
        return commit_once(effect_id, _settlement(user_id, cause, wallet, held, outcome, entries))

    try:
        return retry_on_conflict(attempt, what=f"the wallet of {user_id}")
    except TransactionFailed as exc:
        if exc.failed_on(ENTRY):
            return False  # the entries exist: written by an earlier delivery
        raise


def _settlement(user_id: str, cause: str, wallet: Wallet | None, held: StandingAward | None, outcome: Settlement,
                entries: list[LedgerEntry]) -> Transaction:
    """The ledger entries, the standing award and the wallet (locked on the revision read), as one unit."""
    transaction = Transaction()
    for entry in entries:
        transaction.put(ENTRY, entry, condition=LedgerEntry.entry_id.does_not_exist())
    standing = outcome.standing
    if standing is not None:
        transaction.put("standing", StandingAward(
            StandingAward.partition(user_id), cause, amount=standing.amount, reason=standing.reason,
            day=standing.day, capped=standing.capped, granted_by=entries[-1].entry_id,
        ))
    elif held is not None:
        transaction.delete("standing", StandingAward(StandingAward.partition(user_id), cause))
    purse = outcome.purse
    if wallet is None:
        condition = Wallet.user_id.does_not_exist()
        revision = 0
    else:
        revision = int(wallet.revision or 0)
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
            Wallet.revision.set(revision + 1),
        ],
        condition=condition,
        retry_if_false=True,
    )
    return transaction
