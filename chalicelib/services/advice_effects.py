"""What follows from a change in purchase advice: answer counts, vote tallies, helpful counts, notices.

Each function here is one effect of one stream record and is safe to run again on a redelivered
record: counters move inside `apply_once`, notices have ids derived from their cause.
"""

from __future__ import annotations

from chalicelib.domain.advice import answer_rank, vote_delta
from chalicelib.models.advice import Answer, Question, Review
from chalicelib.models.transactions import Transaction, retry_on_conflict
from chalicelib.services.effects import commit_once, move_counter
from chalicelib.services.notifications import notify
from chalicelib.streams.events import Change

# --- Answers -------------------------------------------------------------------------------------


def count_answers(change: Change) -> None:
    """A new answer adds one to its question's `answer_count`; a removed one takes one away."""
    if change.count_delta:
        move_counter(change.effect_id("answer-count"), Question, change.item["question_id"],
                     Question.answer_count, change.count_delta)


def notify_answer_events(change: Change) -> None:
    """`new_answer` to the asker (not for answering oneself); `answer_accepted` to the answerer."""
    item = change.item
    author_id, asker_id = item.get("author_id"), item.get("asker_id")
    data = {
        "question_id": item.get("question_id"),
        "answer_id": item.get("answer_id"),
        "question_title": item.get("question_title"),
    }
    if change.kind == "INSERT" and asker_id and author_id != asker_id:
        notify(asker_id, "new_answer", {**data, "author_id": author_id},
               cause=change.effect_id("new-answer"), at_ms=change.created_ms)
    newly_accepted = bool((change.new or {}).get("accepted")) and not bool((change.old or {}).get("accepted"))
    if change.kind in ("INSERT", "MODIFY") and newly_accepted and author_id and author_id != asker_id:
        notify(author_id, "answer_accepted", {**data, "asker_id": asker_id},
               cause=change.effect_id("answer-accepted"), at_ms=change.created_ms)


# --- Answer votes --------------------------------------------------------------------------------


def _vote_value(image: dict | None) -> int:
    return int((image or {}).get("value") or 0)


def tally_vote(change: Change) -> bool:
    """Move the answer's score, upvotes, downvotes and `rank` by what this vote change did.

    The stream record's old and new images are the exact before and after of one vote item, so
    summing their differences counts every vote exactly once however votes race. The rank depends
    on the new score, so the answer is read first and written back in the marker's transaction on
    condition that its score and acceptance are still what was read (optimistic concurrency
    against other tallies and against a concurrent acceptance); a lost race reads again.
    """
    delta = vote_delta(_vote_value(change.old), _vote_value(change.new))
    if delta.is_zero:
        return False
    answer_id = change.item["answer_id"]
    effect_id = change.effect_id("vote-tally")

    def attempt() -> bool:
        try:
            answer = Answer.get(answer_id, consistent_read=True)
        except Answer.DoesNotExist:
            return False
        score = int(answer.score or 0)
        accepted = bool(answer.accepted)
        new_score = score + delta.score
        transaction = Transaction()
        transaction.update(
            "answer",
            answer,
            actions=[
                Answer.score.set(new_score),
                Answer.upvotes.add(delta.upvotes),
                Answer.downvotes.add(delta.downvotes),
                Answer.rank.set(answer_rank(accepted=accepted, score=new_score, answer_id=answer_id)),
            ],
            condition=(Answer.score == score) & (Answer.accepted == accepted),
            retry_if_false=True,
        )
        return commit_once(effect_id, transaction)

    return retry_on_conflict(attempt, what=f"answer {answer_id}")


# --- Helpful marks -------------------------------------------------------------------------------


def tally_helpful_mark(change: Change) -> None:
    """A mark adds one to its review's `helpful_count`; taking it back takes one away."""
    if change.count_delta:
        move_counter(change.effect_id("helpful-count"), Review, change.item["review_id"],
                     Review.helpful_count, change.count_delta)
