"""Purchase advice: questions, answers and their votes, products, reviews and helpful marks.

Items that reward or expert handlers read carry copies of what those handlers need (the answer's
author and its question's labels on a vote, the reviewer and the product's labels on a helpful
mark), so a stream record is enough to compute its effect without another read.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.models.base import BaseModel, OnePerUserSharded, table_meta


class QuestionsByAskerIndex(GlobalSecondaryIndex):
    """One user's questions (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_asker"
        projection = KeysOnlyProjection()

    asker_id = UnicodeAttribute(hash_key=True)
    question_id = UnicodeAttribute(range_key=True)


class Question(BaseModel):
    Meta = table_meta("Questions")
    question_id = UnicodeAttribute(hash_key=True)
    asker_id = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    product_ids = ListAttribute(of=UnicodeAttribute, default=list)
    # {product_id: merchant_id}, copied at asking (a product never changes store): see services/cards.py
    product_merchants: MapAttribute = MapAttribute(default=dict)
    answer_count = NumberAttribute(default=0)
    accepted_answer_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    removed_at = UnicodeAttribute(null=True)  # set by moderation: out of every list and search
    by_asker = QuestionsByAskerIndex()


class LabelIndexEntry(BaseModel):
    """`label_key` is "{kind}#{label}#{shard}" (label "*" for all); `item_id` sorts by time.

    Lists are sharded so no partition takes every write of a hot label (see
    `domain.advice.QUESTION_INDEX_SHARDS`); a page merges the shards (`models.sharded`).
    """

    Meta = table_meta("LabelIndex")
    label_key = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)
    created_at = UnicodeAttribute(null=True)
    # the question's asker and {product_id: merchant_id}, so a page reads the questions and their
    # cards in ONE BatchGetItem (both are fixed when the question is asked)
    asker_id = UnicodeAttribute(null=True)
    product_merchants: MapAttribute = MapAttribute(default=dict)


class AnswersByQuestionIndex(GlobalSecondaryIndex):
    """`rank` sorts accepted first, then higher score, then older (see domain code)."""

    class Meta:
        index_name = "by_question"
        projection = AllProjection()

    question_id = UnicodeAttribute(hash_key=True)
    rank = UnicodeAttribute(range_key=True)


class AnswersByAuthorIndex(GlobalSecondaryIndex):
    """One user's answers (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_author"
        projection = KeysOnlyProjection()

    author_id = UnicodeAttribute(hash_key=True)
    answer_id = UnicodeAttribute(range_key=True)


class Answer(BaseModel):
    Meta = table_meta("Answers")
    answer_id = UnicodeAttribute(hash_key=True)
    question_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    asker_id = UnicodeAttribute()
    labels = ListAttribute(of=UnicodeAttribute, default=list)  # the question's labels
    question_title = UnicodeAttribute(null=True)  # for notices, without reading the question
    body = UnicodeAttribute()
    score = NumberAttribute(default=0)
    upvotes = NumberAttribute(default=0)
    downvotes = NumberAttribute(default=0)
    accepted = BooleanAttribute(default=False)
    rank = UnicodeAttribute()
    created_at = UnicodeAttribute()
    removed_at = UnicodeAttribute(null=True)  # set by moderation
    by_question = AnswersByQuestionIndex()
    by_author = AnswersByAuthorIndex()


class AnswerVotesByVoterIndex(GlobalSecondaryIndex):
    """One user's answer votes (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_voter"
        projection = KeysOnlyProjection()

    voter_id = UnicodeAttribute(hash_key=True)
    vote_key = UnicodeAttribute(range_key=True)


#: Partitions one answer's votes spread over: a vote storm of 1,000 a second on one answer puts
#: ~250 WCU/s on each (SPEC "Double-11 rules").
VOTE_SHARDS = 4


class AnswerVote(OnePerUserSharded, BaseModel):
    """One user's vote on one answer; the item exists while the vote is +1 or -1.

    Keyed `<answer_id>#<shard of voter_id>` (`vote_key`, `OnePerUserSharded`): one answer's votes
    spread over `VOTE_SHARDS` partitions; a vote counts once per user.
    """

    SHARDS = VOTE_SHARDS
    PARENT = "answer_id"
    Meta = table_meta("AnswerVotes")
    vote_key = UnicodeAttribute(hash_key=True)
    voter_id = UnicodeAttribute(range_key=True)
    answer_id = UnicodeAttribute()
    value = NumberAttribute()
    author_id = UnicodeAttribute()  # the answer's author, who the vote rewards
    question_id = UnicodeAttribute()
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    updated_at = UnicodeAttribute()
    erased_at = UnicodeAttribute(null=True)  # set just before an erasure deletes it: no points move (domain.changes)
    by_voter = AnswerVotesByVoterIndex()


class ProductsByMerchantIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute(range_key=True)


class Product(BaseModel):
    Meta = table_meta("Products")
    product_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    title = UnicodeAttribute()
    price_cents = NumberAttribute()
    image_url = UnicodeAttribute(null=True)
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    description = UnicodeAttribute(default="")
    currency = UnicodeAttribute(default="CNY")  # ISO 4217 (domain.products)
    # kept by the reviews handler, exactly once per review: the average is rating_total / review_count
    rating_total = NumberAttribute(default=0)
    review_count = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    by_merchant = ProductsByMerchantIndex()


class ReviewsByProductIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_product"
        projection = AllProjection()

    product_id = UnicodeAttribute(hash_key=True)
    review_id = UnicodeAttribute(range_key=True)


class ReviewsByAuthorIndex(GlobalSecondaryIndex):
    """One user's reviews (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_author"
        projection = KeysOnlyProjection()

    author_id = UnicodeAttribute(hash_key=True)
    review_id = UnicodeAttribute(range_key=True)


class Review(BaseModel):
    Meta = table_meta("Reviews")
    review_id = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    labels = ListAttribute(of=UnicodeAttribute, default=list)  # the product's labels
    rating = NumberAttribute()
    body = UnicodeAttribute()
    image_urls = ListAttribute(of=UnicodeAttribute, default=list)
    edited_at = UnicodeAttribute(null=True)
    helpful_count = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    removed_at = UnicodeAttribute(null=True)  # set by moderation
    by_product = ReviewsByProductIndex()
    by_author = ReviewsByAuthorIndex()


class ReviewGuard(BaseModel):
    """Makes "one review per user per product" atomic: written with the review in one transaction,
    keyed by `domain.advice.review_guard_key(product_id, author_id)`. It lives in the Reviews table
    but holds no `product_id`, so it never appears in `by_product`."""

    Meta = table_meta("Reviews")
    review_id = UnicodeAttribute(hash_key=True)  # the guard key, not a review id
    guarded_review_id = UnicodeAttribute()


class HelpfulMarksByUserIndex(GlobalSecondaryIndex):
    """One user's helpful marks (KEYS_ONLY: personal_data.py reads the items themselves)."""

    class Meta:
        index_name = "by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)
    review_id = UnicodeAttribute(range_key=True)


class HelpfulMark(BaseModel):
    """One user's "helpful" on one review; the item exists while the mark stands."""

    Meta = table_meta("HelpfulMarks")
    review_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    reviewer_id = UnicodeAttribute()  # the review's author, who the mark rewards
    product_id = UnicodeAttribute()
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UnicodeAttribute()
    erased_at = UnicodeAttribute(null=True)  # set just before an erasure deletes it: no points move (domain.changes)
    by_user = HelpfulMarksByUserIndex()


class WishlistEntry(BaseModel):
    Meta = table_meta("Wishlists")
    user_id = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute(range_key=True)
    title = UnicodeAttribute()
    price_cents = NumberAttribute()
    merchant_id = UnicodeAttribute(null=True)  # the product's store, so a page reads both in one call
    added_at = UnicodeAttribute()
