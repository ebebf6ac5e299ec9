"""The judges' scores, and the merchant standing recomputed from them on the Ratings stream."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain.changes import Change
from chalicelib.domain.ids import now_iso
from chalicelib.domain.tiers import Standing, standing_from_scores
from chalicelib.errors import Forbidden, NotFound
from chalicelib.models.base import get_or_none
from chalicelib.models.merchants import Merchant, Rating
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.merchants import RatingOut
else:
    RatingOut, = lazy_models("chalicelib.schemas.merchants", "RatingOut")


def rating_view(rating: Rating) -> RatingOut:
    return RatingOut(merchant_id=rating.merchant_id, judge_id=rating.judge_id, score=int(rating.score),
                     comment=rating.comment, updated_at=rating.updated_at)


def rate_merchant(judge: Caller, merchant_id: str, score: int, comment: str | None) -> RatingOut:
    """Put the judge's score (replacing any earlier one) and move the store's `ratings_version`.

    One TransactWrite: the version's update is conditional on the store existing (else 404), and a
    score never lands without its version moving, which is what the standing's optimistic lock
    relies on.
    """
    from chalicelib.models.transactions import Transaction, TransactionFailed

    if judge.user_id == merchant_id:
        raise Forbidden("A judge cannot rate their own store", code="OwnStore")
    rating = Rating(merchant_id, judge.user_id, score=score, comment=comment, updated_at=now_iso())
    try:
        with Transaction() as transaction:
            transaction.update(
                "store",
                Merchant(merchant_id),
                actions=[Merchant.ratings_version.add(1)],
                condition=Merchant.store_name.exists(),
            )
            transaction.put("rating", rating)
    except TransactionFailed as exc:
        if exc.failed_on("store"):
            raise NotFound(f"No merchant {merchant_id}") from None
        raise
    return rating_view(rating)


def my_rating(judge: Caller, merchant_id: str) -> RatingOut:
    """The judge's own score of a store: one GetItem; 404 when they have not scored it (or no store)."""
    rating = get_or_none(Rating, merchant_id, judge.user_id) if 0 < len(merchant_id) <= 128 else None
    if rating is None:
        raise NotFound(f"You have not scored merchant {merchant_id[:128]}")
    return rating_view(rating)


def _same_standing(merchant: Merchant, standing: Standing) -> bool:
    mean = float(merchant.mean_score) if merchant.mean_score is not None else None
    return (
        merchant.tier == standing.tier
        and merchant.badge == standing.badge
        and int(merchant.judge_count or 0) == standing.judge_count
        and mean == standing.mean_score
    )


def refresh_standing(merchant_id: str) -> bool:
    """Recompute a store's standing from all its scores; True if the store item changed.

    Idempotent: it reads the scores themselves (one consistent Query, bounded by the panel's size)
    rather than adding a delta, so a replayed record recomputes the same answer. Correct under
    racing records: the write is conditional on `ratings_version` being what it was *before* the
    scores were read. If it moved, a newer score landed; that score's own stream record (later in
    the same shard) recomputes with it, so this one steps aside instead of writing a stale mean.
    """
    from pynamodb.exceptions import UpdateError

    merchant = get_or_none(Merchant, merchant_id, consistent_read=True)
    if merchant is None:
        return False
    version = merchant.ratings_version
    scores = [r.score for r in Rating.query(merchant_id, consistent_read=True, attributes_to_get=["score"])]
    standing = standing_from_scores(scores)
    if _same_standing(merchant, standing):
        return False
    actions = [Merchant.judge_count.set(standing.judge_count), Merchant.rated_at.set(now_iso())]
    for attribute, value in ((Merchant.tier, standing.tier), (Merchant.badge, standing.badge),
                             (Merchant.mean_score, standing.mean_score)):
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    if version is None:
        unchanged = Merchant.ratings_version.does_not_exist()
    else:
        unchanged = Merchant.ratings_version == version
    condition = Merchant.store_name.exists() & unchanged
    try:
        merchant.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            from chalicelib.observability import logger

            logger.info("standing superseded by a newer score", extra={"merchant_id": merchant_id})
            return False
        raise
    return True


def recompute_standing(change: Change) -> None:
    """Ratings stream effect: any score put, replaced or removed re-ranks its store."""
    merchant_id = change.keys.get("merchant_id") or change.item.get("merchant_id")
    if merchant_id:
        refresh_standing(merchant_id)


def tier_notice(change: Change) -> tuple[str, dict] | None:
    """(merchant, data) of `merchant_tier`: due when a store's tier moved (gained, changed or lost)."""
    if change.kind != "MODIFY" or not change.changed("tier"):
        return None
    old, new = change.old or {}, change.new or {}
    return new["merchant_id"], {
        "merchant_id": new["merchant_id"],
        "tier": new.get("tier"),
        "badge": new.get("badge"),
        "previous_tier": old.get("tier"),
        "judge_count": new.get("judge_count"),
    }


def announce_tier_change(change: Change) -> None:
    """Merchants stream effect: tell the merchant their tier moved.

    The notice's id derives from this record (its cause and the image's `rated_at`), so a
    redelivery rewrites the same notice.
    """
    from chalicelib.services.notifications import notify

    notice = tier_notice(change)
    if notice is None:
        return
    merchant_id, data = notice
    notify(merchant_id, "merchant_tier", data, cause=change.effect_id("merchant-tier"),
           at_ms=_moment_ms((change.new or {}).get("rated_at")) or change.created_ms)


def _moment_ms(stamp: str | None) -> int | None:
    """The record's own time of the change (ms), finer than the stream's creation time (seconds)."""
    from datetime import datetime

    if not stamp:
        return None
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None
