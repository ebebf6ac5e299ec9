"""What follows from a change in purchase advice: answer counts, vote tallies, helpful counts, notices.

Each function here is one effect of one stream record and is safe to run again on a redelivered
record: counters move inside `apply_once`, notices have ids derived from their cause.
"""

from __future__ import annotations

from chalicelib.domain.advice import answer_rank, vote_delta
from chalicelib.domain.changes import Change
from chalicelib.models.advice import Answer, Question, Review
from chalicelib.models.transactions import Transaction, retry_on_conflict
from chalicelib.services.effects import commit_once, move_counter
from chalicelib.services.notifications import notify

# --- Answers -------------------------------------------------------------------------------------


def count_answers(change: Change) -> None:
    """A new answer adds one to its question's `answer_count`; a removed one takes one away."""
    if change.count_delta:
        move_counter(change.effect_id("answer-count"), Question, change.item["question_id"],
                     Question.answer_count, change.count_delta)


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

