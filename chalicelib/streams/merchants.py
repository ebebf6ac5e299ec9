"""Stream handlers of the judges' panel and Good Finds: each table's effects, by name.

To add an effect of one of these tables, add a function taking a `Change` to its tuple; each must
be idempotent on its own, because a failure in any of them redelivers the record to all.
"""

from chalice import Blueprint

from chalicelib.services import good_finds, label_lists, ratings, search
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

RATING_EFFECTS = (ratings.recompute_standing,)
MERCHANT_EFFECTS = (ratings.announce_tier_change, good_finds.reindex_merchant, label_lists.list_store,
                    search.index_store)
PRODUCT_EFFECTS = (good_finds.index_product, label_lists.list_product, search.index_product)

rank_merchants = dynamodb_stream(blueprint, "Ratings", RATING_EFFECTS, name="rank_merchants")
propagate_merchant_tiers = dynamodb_stream(blueprint, "Merchants", MERCHANT_EFFECTS, name="propagate_merchant_tiers")
index_products = dynamodb_stream(blueprint, "Products", PRODUCT_EFFECTS, name="index_products")
