"""Rules of purchase advice: answer ordering, vote arithmetic, label index keys.

Plain Python: no boto3, no PynamoDB, so every rule here is unit-tested without moto.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.domain.sharded_lists import shard_key, shard_of

VOTE_VALUES = (-1, 0, 1)
MAX_PRODUCTS_PER_QUESTION = 10
MAX_PRICE_CENTS = 100_000_000_000  # a billion in the currency's main unit: far above any real price

# Scores are stored inverted around this offset, so an ascending sort puts the highest first.
# Any score within +/- (offset - 1) keeps its place; beyond that (never in practice) it is clamped.
_SCORE_OFFSET = 10**12
_SCORE_DIGITS = 13
ALL_LABELS = "*"
MAX_ID_LENGTH = 128


def plausible_id(value: str) -> bool:
    """Ids this service mints are short; anything longer cannot name an item (and a key over
    DynamoDB's 2 KB limit would be an error rather than a miss)."""
    return 0 < len(value) <= MAX_ID_LENGTH


def answer_rank(*, accepted: bool, score: int, answer_id: str) -> str:
    """The `rank` sort key of the Answers `by_question` index: sorting it ascending gives the
    accepted answer first, then higher score first, then the older answer first.

    Answer ids are time-sortable, so the id is the "older first" tie-break and keeps ranks unique.
    Negative scores map above the offset, so -3 sorts after 0, which sorts after +5.
    """
    bounded = max(-(_SCORE_OFFSET - 1), min(_SCORE_OFFSET - 1, int(score)))
    inverted = _SCORE_OFFSET - bounded  # 1 .. 2 * offset - 1
    return f"{0 if accepted else 1}#{inverted:0{_SCORE_DIGITS}d}#{answer_id}"


@dataclass(frozen=True)
class VoteDelta:
    """How one vote change moves an answer's tallies."""

    score: int
    upvotes: int
    downvotes: int

    @property
    def is_zero(self) -> bool:
        return self.score == 0 and self.upvotes == 0 and self.downvotes == 0


def vote_delta(old_value: int, new_value: int) -> VoteDelta:
    """From the vote a user had (0 for none) to the one they have now (0 for withdrawn)."""
    for value in (old_value, new_value):
        if value not in VOTE_VALUES:
            raise ValueError(f"a vote is -1, 0 or 1, not {value!r}")
    return VoteDelta(
        score=new_value - old_value,
        upvotes=(new_value == 1) - (old_value == 1),
        downvotes=(new_value == -1) - (old_value == -1),
    )


# Every question writes one entry per label and one in "all" (2 WCU each: they are in the question's
# transaction). At the contract's 500 questions a second on one label, unsharded, the label's and the
# "all" partitions each take 1,000 WCU/s: DynamoDB's per-partition ceiling. Four shards put them at
# 250 WCU/s (room for 2,000 questions a second), and 4 is what a page may read in parallel.
QUESTION_INDEX_SHARDS = 4


def question_label_key(label: str | None, shard: int) -> str:
    """The LabelIndex partition of one shard of the questions with `label` (all questions when None)."""
    return shard_key(f"question#{label or ALL_LABELS}", shard)


def question_list_partitions(label: str | None) -> list[str]:
    """Every shard's partition of the question list of `label`, in shard order."""
    return [question_label_key(label, shard) for shard in range(QUESTION_INDEX_SHARDS)]


def question_index_keys(question_id: str, labels: list[str]) -> list[str]:
    """The LabelIndex partitions a question is listed in: its shard of each label, and of "all"."""
    shard = shard_of(question_id, QUESTION_INDEX_SHARDS)
    return label_keys(lambda label: question_label_key(label, shard), labels)


def label_keys(kind_key: Callable[[str | None], str], labels: list[str]) -> list[str]:
    """Every LabelIndex partition an item with `labels` is listed in: one per label, plus "all"."""
    return [kind_key(label) for label in dict.fromkeys(labels)] + [kind_key(None)]


def created_at_of(item_id: str) -> str:
    """The ISO time a time-sortable id was minted at, so an item's id and `created_at` agree."""
    from datetime import UTC, datetime

    from chalicelib.domain.ids import id_time_ms, iso

    return iso(datetime.fromtimestamp(id_time_ms(item_id) / 1000, tz=UTC))


def review_guard_key(product_id: str, author_id: str) -> str:
    """The key of the item that makes "one review per user per product" atomic."""
    return f"one-review#{product_id}#{author_id}"


def acceptance_moves(current_answer_id: str | None, new_answer_id: str) -> tuple[str | None, bool]:
    """Which answer loses the acceptance (if any), and whether anything changes at all."""
    if current_answer_id == new_answer_id:
        return None, False
    return current_answer_id, True
