"""Reviews of products and "helpful" marks on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain.advice import MAX_ID_LENGTH, created_at_of, plausible_id, review_guard_key
from chalicelib.domain.changes import Change
from chalicelib.domain.ids import new_id, now_iso
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.models.advice import HelpfulMark, Product, Review, ReviewGuard
from chalicelib.models.base import batch_get, get_or_none, update_if
from chalicelib.models.graph import Block
from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models
from chalicelib.services.cards import CardRead

if TYPE_CHECKING:
    from chalicelib.schemas.advice import HelpfulOut, ReviewOut
    from chalicelib.schemas.cards import UserCard
else:
    HelpfulOut, ReviewOut = lazy_models("chalicelib.schemas.advice", "HelpfulOut", "ReviewOut")
    UserCard, = lazy_models("chalicelib.schemas.cards", "UserCard")


def review_view(review: Review, author: UserCard, marked_helpful: bool = False) -> ReviewOut:
    return ReviewOut.from_item(review, author, marked_helpful)


def write(caller: Caller, product_id: str, rating: int, body: str, image_urls: list[str] | None = None) -> ReviewOut:
    """One review per user per product: the review and its guard item are put in one TransactWrite,
    each on condition it does not exist, so of two racing reviews exactly one is stored. One
    BatchGetItem reads the product and the reviewer's card first."""
    if not plausible_id(product_id):
        raise NotFound(f"No product {product_id[:MAX_ID_LENGTH]}")
    me = CardRead(user_ids=[caller.user_id])
    read, *found = batch_get([(Product, product_id, None), *me.keys()])
    if not isinstance(read, Product):
        raise NotFound(f"No product {product_id}")
    product = read
    if product.merchant_id == caller.user_id:
        raise Forbidden("You cannot review your own product")
    review_id = new_id()
    review = Review(
        review_id,
        product_id=product_id,
        author_id=caller.user_id,
        merchant_id=product.merchant_id,
        labels=list(product.labels or []),
        rating=rating,
        body=body,
        image_urls=list(image_urls or []),
        helpful_count=0,
        created_at=created_at_of(review_id),
    )
    guard = ReviewGuard(review_guard_key(product_id, caller.user_id), guarded_review_id=review_id)
    try:
        with Transaction() as transaction:
            transaction.put("review", review, condition=Review.review_id.does_not_exist())
            transaction.put("guard", guard, condition=ReviewGuard.review_id.does_not_exist())
    except TransactionFailed as exc:
        if exc.failed_on("review", "guard"):
            raise Conflict("You have already reviewed this product", code="AlreadyReviewed") from None
        raise
    return review_view(review, me.build(found).users[caller.user_id])


def get_review(review_id: str) -> Review:
    if not plausible_id(review_id):
        raise NotFound(f"No review {review_id[:MAX_ID_LENGTH]}")
    review = get_or_none(Review, review_id)
    if review is None or not getattr(review, "product_id", None):  # a guard item is not a review
        raise NotFound(f"No review {review_id}")
    return review


def list_reviews(caller: Caller, product_id: str, page: PageRequest) -> Page:
    """Newest first: one Query on `by_product`, then one BatchGetItem for the product (404 when
    unknown), the caller's marks and the reviewers' cards."""
    if not plausible_id(product_id):
        raise NotFound(f"No product {product_id[:MAX_ID_LENGTH]}")
    results = Review.by_product.query(
        product_id, scan_index_forward=False, limit=page.limit,
        last_evaluated_key=page.start_key(Review.by_product, product_id)
    )
    reviews = list(results)
    authors = CardRead(user_ids=[r.author_id for r in reviews])
    found = batch_get(
        [(Product, product_id, None)] + [(HelpfulMark, r.review_id, caller.user_id) for r in reviews]
        + authors.keys()
    )
    if found[0] is None:
        raise NotFound(f"No product {product_id}")
    marks = found[1:1 + len(reviews)]
    cards = authors.build(found[1 + len(reviews):]).users
    items = [review_view(r, cards[r.author_id], mark is not None) for r, mark in zip(reviews, marks, strict=True)
             if not r.removed_at]  # moderation: out of the list
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def mark_helpful(caller: Caller, review_id: str, value: bool) -> HelpfulOut:
    """Mark (true) or take back (false) the caller's "helpful" on a review; repeating is a no-op.

    The mark carries the reviewer and the product's labels, which rewards and expert scores read
    from its stream record."""

    review = get_review(review_id)
    if review.author_id == caller.user_id:
        raise Forbidden("You cannot mark your own review helpful")
    if not value:
        HelpfulMark(review_id, caller.user_id).delete()
        return HelpfulOut(review_id=review_id, helpful=False)
    mark = HelpfulMark(
        review_id,
        caller.user_id,
        reviewer_id=review.author_id,
        product_id=review.product_id,
        labels=list(review.labels or []),
        created_at=now_iso(),
    )
    def attempt() -> None:
        try:
            with Transaction() as transaction:  # a review deleted meanwhile takes no mark (its marks are removed)
                transaction.check("review", Review, review_id, condition=Review.product_id.exists())
                transaction.check("block", Block, review.author_id, caller.user_id,  # blocked by the reviewer: 403
                                  condition=Block.blocker_id.does_not_exist())
                transaction.put("mark", mark, condition=HelpfulMark.user_id.does_not_exist())
        except TransactionFailed as exc:
            if exc.conflict:
                raise
            if exc.failed_on("review"):
                raise NotFound(f"No review {review_id}") from None
            if exc.failed_on("block"):
                raise Forbidden("The reviewer does not let you mark their reviews") from None
            if not exc.failed_on("mark"):  # already marked: nothing changes
                raise

    retry_on_conflict(attempt, what="your mark")
    return HelpfulOut(review_id=review_id, helpful=True)


def edit(caller: Caller, review_id: str, changes: dict) -> ReviewOut:
    """PATCH, author only: one conditional update of the fields given, and `edited_at`. A new rating
    moves the product's `rating_total` through `count_product_reviews` (the record's before and after)."""
    review = get_review(review_id)
    if review.author_id != caller.user_id:
        raise Forbidden("Only the author may edit a review")
    actions = [getattr(Review, name).set(value) for name, value in changes.items()]
    if not update_if(review, [*actions, Review.edited_at.set(now_iso())], Review.author_id == caller.user_id):
        raise NotFound(f"No review {review_id}")
    for name, value in changes.items():
        setattr(review, name, value)
    me = CardRead(user_ids=[caller.user_id])
    mark, *found = batch_get([(HelpfulMark, review_id, caller.user_id), *me.keys()])
    return review_view(review, me.build(found).users[caller.user_id], mark is not None)


def delete(caller: Caller, review_id: str) -> None:
    """DELETE, author only: the review and its one-per-product guard in one transaction (so the author
    may review the product again). Its REMOVE record drops the product's `review_count` and rating
    (`count_product_reviews`); `remove_marks_of_removed_review` deletes its helpful marks, whose
    records take back the points and expert scores they gave through the existing mark effects."""
    review = get_review(review_id)
    if review.author_id != caller.user_id:
        raise Forbidden("Only the author may delete a review")
    guard = ReviewGuard(review_guard_key(review.product_id, caller.user_id))
    try:
        with Transaction() as transaction:
            transaction.delete("review", review, condition=Review.author_id == caller.user_id)
            transaction.delete("guard", guard, condition=ReviewGuard.guarded_review_id == review_id)
    except TransactionFailed as exc:
        if not exc.failed_on("review"):
            raise
        # deleted meanwhile: done


def remove_marks_of_removed_review(change: Change) -> None:
    """Reviews stream effect: a deleted review's helpful marks are deleted, each REMOVE record then
    reversing its +5 and expert score exactly, as an unmark does. Idempotent under replay; no mark is
    stored after the review is gone (`mark_helpful` checks the review in its transaction)."""
    old = change.old or {}
    if change.kind != "REMOVE" or not old.get("product_id"):  # guard items carry no product
        return
    marks = list(HelpfulMark.query(old["review_id"], consistent_read=True))
    with HelpfulMark.batch_write() as batch:
        for mark in marks:
            batch.delete(mark)
