"""What follows from a change in purchase advice: answer counts, vote tallies, helpful counts, notices.

Each function here is one effect of a stream record (or, marked `per_batch`, of a batch of them) and
is safe to run again on a redelivered record: counters and tallies are summed per batch with a
marker per record (`services.effects.sum_changes_once`), notices have ids derived from their cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.advice import VoteDelta, answer_rank, vote_delta
from chalicelib.domain.changes import BatchFailures, Change, per_batch
from chalicelib.models.advice import Answer, Question, Review
from chalicelib.models.base import get_or_none
from chalicelib.models.transactions import Transaction
from chalicelib.services.effects import Counter, sum_changes_once
from chalicelib.services.notifications import notify

# --- Answers -------------------------------------------------------------------------------------


def answer_count_moves(change: Change) -> list[tuple[Counter, str, int]]:
    """A new answer adds one to its question's `answer_count`, a deleted one takes one away, and so do
    a moderator's removal and restore (`Change.shown_delta`): the count is of the answers readers see."""
    if not change.shown_delta:
        return []
    return [(Counter(Question, change.item["question_id"], "answer_count"), change.effect_id("answer-count"),
             change.shown_delta)]


@per_batch
def count_answers(changes: Sequence[Change]) -> BatchFailures:
    return sum_changes_once(changes, answer_count_moves)


def _notice_data(item: dict) -> dict:
    return {"question_id": item.get("question_id"), "answer_id": item.get("answer_id"),
            "question_title": item.get("question_title")}


def new_answer_notice(change: Change) -> tuple[str, dict] | None:
    """(recipient, data) of `new_answer`: a new answer tells the asker, unless they answered themselves."""
    item = change.item
    author_id, asker_id = item.get("author_id"), item.get("asker_id")
    if change.kind != "INSERT" or not asker_id or author_id == asker_id:
        return None
    return asker_id, {**_notice_data(item), "author_id": author_id}


def notify_new_answer(change: Change) -> None:
    notice = new_answer_notice(change)
    if notice is not None:
        recipient, data = notice
        notify(recipient, "new_answer", data, cause=change.effect_id("new-answer"), at_ms=change.created_ms)


def acceptance_notice(change: Change) -> tuple[str, dict] | None:
    """(recipient, data) of `answer_accepted`: an answer just accepted tells its author (not a self-answer)."""
    item = change.item
    author_id, asker_id = item.get("author_id"), item.get("asker_id")
    newly_accepted = bool((change.new or {}).get("accepted")) and not bool((change.old or {}).get("accepted"))
    if change.kind == "REMOVE" or not newly_accepted or not author_id or author_id == asker_id:
        return None
    return author_id, {**_notice_data(item), "asker_id": asker_id}


def notify_answer_accepted(change: Change) -> None:
    notice = acceptance_notice(change)
    if notice is not None:
        recipient, data = notice
        notify(recipient, "answer_accepted", data, cause=change.effect_id("answer-accepted"), at_ms=change.created_ms)


# --- Answer votes --------------------------------------------------------------------------------


def _vote_value(image: dict | None) -> int:
    return int((image or {}).get("value") or 0)


@dataclass(frozen=True)
class AnswerTally:
    """An answer's score, upvotes, downvotes and `rank`, moved by the sum of a batch's vote changes.

    The rank depends on the new score, so the answer is read and written back on condition that its
    score and acceptance are still what was read (optimistic concurrency against a concurrent
    acceptance, and other shards' tallies); a lost race reads again.
    """

    answer_id: str
    gone_if_false: bool = False  # the condition is an optimistic lock: false means read again

    def write(self, transaction: Transaction, label: str, deltas: Sequence[VoteDelta]) -> bool:
        answer = get_or_none(Answer, self.answer_id, consistent_read=True)
        if answer is None:
            return False
        total = summed_votes(deltas)
        score, accepted = int(answer.score or 0), bool(answer.accepted)
        if total.is_zero:
            return True  # only the records' markers
        new_score = score + total.score
        transaction.update(
            label,
            answer,
            actions=[
                Answer.score.set(new_score),
                Answer.upvotes.add(total.upvotes),
                Answer.downvotes.add(total.downvotes),
                Answer.rank.set(answer_rank(accepted=accepted, score=new_score, answer_id=self.answer_id)),
            ],
            condition=(Answer.score == score) & (Answer.accepted == accepted),
            retry_if_false=True,
        )
        return True


def summed_votes(deltas: Sequence[VoteDelta]) -> VoteDelta:
    return VoteDelta(score=sum(d.score for d in deltas), upvotes=sum(d.upvotes for d in deltas),
                     downvotes=sum(d.downvotes for d in deltas))


def vote_tally_moves(change: Change) -> list[tuple[AnswerTally, str, VoteDelta]]:
    """What one vote change does to its answer's tallies: the old and new images of a vote item are
    its exact before and after, so summing their differences counts every vote once however votes race."""
    delta = vote_delta(_vote_value(change.old), _vote_value(change.new))
    if delta.is_zero:
        return []
    return [(AnswerTally(change.item["answer_id"]), change.effect_id("vote-tally"), delta)]


@per_batch
def tally_vote(changes: Sequence[Change]) -> BatchFailures:
    """Move each answer's score, upvotes, downvotes and `rank` by what the batch's votes did: one
    write of a voted answer per batch."""
    return sum_changes_once(changes, vote_tally_moves)


# --- Helpful marks -------------------------------------------------------------------------------


def helpful_count_moves(change: Change) -> list[tuple[Counter, str, int]]:
    """A mark adds one to its review's `helpful_count`; taking it back takes one away."""
    if not change.count_delta:
        return []
    return [(Counter(Review, change.item["review_id"], "helpful_count"), change.effect_id("helpful-count"),
             change.count_delta)]


@per_batch
def tally_helpful_mark(changes: Sequence[Change]) -> BatchFailures:
    return sum_changes_once(changes, helpful_count_moves)


# --- Reviews -------------------------------------------------------------------------------------


def count_product_reviews(change: Change) -> None:
    """A review moves its product's `review_count` and `rating_total` (the card's `rating_avg`), exactly
    once per record; a product deleted meanwhile keeps no counter."""
    from chalicelib.domain.products import review_counter_moves
    from chalicelib.models.advice import Product
    from chalicelib.models.transactions import TransactionFailed
    from chalicelib.services.effects import apply_once

    moves = review_counter_moves(change.old, change.new)
    if moves is None:
        return
    product_id, count, rating = moves

    def write(transaction: Transaction) -> None:
        transaction.update("counter", Product(product_id),
                           actions=[Product.review_count.add(count), Product.rating_total.add(rating)],
                           condition=Product.product_id.exists())

    try:
        apply_once(change.effect_id("product-reviews"), write)
    except TransactionFailed as exc:
        if not exc.failed_on("counter"):
            raise

