"""Stream handlers of purchase advice: each table's effects, by name, in the order they run.

DynamoDB Streams allows two readers per shard, so every effect of a table hangs off its ONE
handler here. To add an effect, add a function taking a `Change` (or a `per_batch` one taking the
batch's changes) to the table's tuple below; each effect must be idempotent on its own, because a
failure in any of them redelivers the record to all of them. Counts, vote tallies, expert scores and
rewards are batch effects (one write of a question, answer, review or score per batch; one wallet
transaction per user per 99 causes a batch), hence the batch size and window (`streams.events`
says why).
"""

from chalice import Blueprint

from chalicelib.services import activity, advice_effects, experts, questions, reviews, rewards
from chalicelib.streams.events import MIXED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS, dynamodb_stream

blueprint = Blueprint(__name__)

ANSWER_EFFECTS = (
    advice_effects.count_answers,
    advice_effects.notify_new_answer,
    advice_effects.notify_answer_accepted,
    rewards.award_for_acceptance,
    questions.remove_votes_of_removed_answer,
    activity.share_answers,
)
ANSWER_VOTE_EFFECTS = (
    advice_effects.tally_vote,
    rewards.award_for_vote_change,
    experts.score_experts_for_vote,
    questions.remove_votes_of_missing_answers,
)
HELPFUL_MARK_EFFECTS = (
    advice_effects.tally_helpful_mark,
    rewards.award_for_helpful_mark,
    experts.score_experts_for_helpful_mark,
)

REVIEW_EFFECTS = (advice_effects.count_product_reviews, reviews.remove_marks_of_removed_review, activity.share_reviews)

SUMMED = {"batch_size": MIXED_BATCH_SIZE, "batching_window_seconds": SUMMED_BATCH_WINDOW_SECONDS}

track_answers = dynamodb_stream(blueprint, "Answers", ANSWER_EFFECTS, name="track_answers", **SUMMED)
tally_answer_votes = dynamodb_stream(blueprint, "AnswerVotes", ANSWER_VOTE_EFFECTS, name="tally_answer_votes",
                                     **SUMMED)
tally_helpful_marks = dynamodb_stream(blueprint, "HelpfulMarks", HELPFUL_MARK_EFFECTS, name="tally_helpful_marks",
                                      **SUMMED)
track_reviews = dynamodb_stream(blueprint, "Reviews", REVIEW_EFFECTS, name="track_reviews")
