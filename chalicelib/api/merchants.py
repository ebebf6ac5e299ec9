"""Merchant profiles, the judges' scores and Good Finds."""

from typing import TYPE_CHECKING

from chalicelib.http import Api, Query
from chalicelib.schemas import lazy_models
from chalicelib.services import good_finds, merchants, ratings

if TYPE_CHECKING:
    from chalicelib.schemas.merchants import GoodFindOut, MerchantOut, RateMerchant, RatingOut, UpdateMerchant
else:
    (
        GoodFindOut, MerchantOut, RateMerchant, RatingOut, UpdateMerchant,
    ) = lazy_models(
        "chalicelib.schemas.merchants",
        "GoodFindOut", "MerchantOut", "RateMerchant", "RatingOut", "UpdateMerchant",
    )

api = Api(__name__, tag="merchants")
blueprint = api.blueprint


@api.route("PUT", "/merchants/me", summary="Create or update the caller's store (merchants only)",
           body=UpdateMerchant, response=MerchantOut, group="merchants")
def put_my_store(ctx):
    caller = ctx.require_group("merchants")
    body = ctx.body
    return merchants.put_my_store(caller, body.store_name, body.description, body.labels)


@api.route("GET", "/merchants", summary="The store directory: rated stores first by tier, then newest",
           response=MerchantOut, paginated=True,
           query={"label": "Only stores with this label (see GET /labels)",
                  "tier": Query("Only stores of this tier", enum=("platinum", "gold", "silver", "bronze"))})
def list_stores(ctx):
    return merchants.directory(ctx.query.get("label"), ctx.query.get("tier"), ctx.page)


@api.route("GET", "/merchants/me", summary="The caller's own store", response=MerchantOut, errors=(404,))
def get_my_store(ctx):
    return merchants.get_merchant(ctx.user.user_id)


@api.route("GET", "/merchants/{merchant_id}", summary="A store with its tier, badge and judge count",
           response=MerchantOut)
def get_merchant(ctx, merchant_id):
    return merchants.get_merchant(merchant_id)


@api.route("PUT", "/merchants/{merchant_id}/ratings/me",
           summary="Score a store 0-100 (judges only; a later score replaces the earlier)",
           body=RateMerchant, response=RatingOut, group="judges", errors=("OwnStore",))
def rate_merchant(ctx, merchant_id):
    judge = ctx.require_group("judges")
    return ratings.rate_merchant(judge, merchant_id, ctx.body.score, ctx.body.comment)


@api.route("GET", "/merchants/{merchant_id}/ratings/me", summary="The calling judge's own score of a store "
           "(judges only; 404 when they have not scored it)", response=RatingOut, group="judges", errors=(404,))
def get_my_rating(ctx, merchant_id):
    judge = ctx.require_group("judges")
    return ratings.my_rating(judge, merchant_id)


@api.route("GET", "/good-finds",
           summary="Rated stores' products matching the caller's labels: higher tier first, then newest",
           response=GoodFindOut, paginated=True)
def list_good_finds(ctx):
    return good_finds.list_good_finds(ctx.user, ctx.page)
