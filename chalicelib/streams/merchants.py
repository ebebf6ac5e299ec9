"""Stream handlers of the judges' panel and Good Finds: one per table, each dispatching its effects.

To add an effect of one of these tables, append a function taking a `Change` to its tuple; each
must be idempotent on its own, because a failure in any of them redelivers the record to all.
"""

from chalice import Blueprint

from chalicelib.services import good_finds, ratings
from chalicelib.streams.events import Change, dynamodb_stream

blueprint = Blueprint(__name__)

RATING_EFFECTS = (ratings.recompute_standing,)
MERCHANT_EFFECTS = (ratings.announce_tier_change, good_finds.reindex_merchant)
PRODUCT_EFFECTS = (good_finds.index_product,)


def on_rating_change(change: Change) -> None:
    for effect in RATING_EFFECTS:
        effect(change)


def on_merchant_change(change: Change) -> None:
    for effect in MERCHANT_EFFECTS:
        effect(change)


def on_product_change(change: Change) -> None:
    for effect in PRODUCT_EFFECTS:
        effect(change)


rank_merchants = dynamodb_stream(blueprint, "Ratings", on_rating_change, name="rank_merchants")
propagate_merchant_tiers = dynamodb_stream(
    blueprint, "Merchants", on_merchant_change, name="propagate_merchant_tiers"
)
index_products = dynamodb_stream(blueprint, "Products", on_product_change, name="index_products")
