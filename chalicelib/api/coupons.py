"""Coupon campaigns: created by merchants, redeemed with points, used at the issuing store's checkout."""

from typing import TYPE_CHECKING

from chalicelib.errors import BadRequest
from chalicelib.http import Api, Query
from chalicelib.schemas import lazy_models
from chalicelib.services import coupons

if TYPE_CHECKING:
    from chalicelib.schemas.points import CampaignOut, CouponLookupOut, CouponOut, CreateCampaign, UseCoupon
else:
    (
        CampaignOut, CouponLookupOut, CouponOut, CreateCampaign, UseCoupon,
    ) = lazy_models(
        "chalicelib.schemas.points",
        "CampaignOut", "CouponLookupOut", "CouponOut", "CreateCampaign", "UseCoupon",
    )

api = Api(__name__, tag="coupons")
blueprint = api.blueprint


@api.route("POST", "/merchants/me/coupons", summary="Create a coupon campaign (merchants only)",
           body=CreateCampaign, response=CampaignOut, status=201, group="merchants")
def create_campaign(ctx):
    merchant = ctx.require_group("merchants")
    body = ctx.body
    return coupons.create_campaign(
        merchant,
        title=body.title,
        discount_cents=body.discount_cents,
        min_spend_cents=body.min_spend_cents,
        points_cost=body.points_cost,
        total_quantity=body.total_quantity,
        per_user_limit=body.per_user_limit,
        expires_at=body.expiry(),
    )


@api.route("GET", "/merchants/{merchant_id}/coupons", summary="A store's campaigns that have not expired",
           response=CampaignOut, paginated=True)
def list_campaigns(ctx, merchant_id):
    return coupons.list_active_campaigns(merchant_id, ctx.page)


@api.route("POST", "/coupons/{campaign_id}/redeem",
           summary="Spend points on a coupon (409 InsufficientPoints, SoldOut, LimitReached, Expired or Ended)",
           response=CouponOut, status=201,
           errors=(403, "InsufficientPoints", "SoldOut", "LimitReached", "Expired", "Ended"))
def redeem_coupon(ctx, campaign_id):
    return coupons.redeem(ctx.user, campaign_id)


@api.route("GET", "/me/coupons", summary="The caller's coupons, newest first", response=CouponOut, paginated=True)
def list_my_coupons(ctx):
    return coupons.my_coupons(ctx.user.user_id, ctx.page)


@api.route("POST", "/merchants/me/coupons/use", summary="Mark a coupon used at checkout (issuing store only, once)",
           body=UseCoupon, response=CouponOut, group="merchants",
           errors=(403, 404, "AlreadyUsed", "Expired", "MinimumSpendNotMet"))
def use_coupon(ctx):
    merchant = ctx.require_group("merchants")
    return coupons.use_coupon(merchant, ctx.body.coupon_code, ctx.body.order_total_cents)


@api.route("GET", "/merchants/me/coupons",
           summary="The caller's own campaigns of one status, newest first (merchants only; a page may be short)",
           response=CampaignOut, paginated=True, group="merchants",
           query={"status": Query("active | sold_out | expired | ended", required=True,
                                  enum=coupons.CAMPAIGN_STATUSES)})
def list_my_campaigns(ctx):
    merchant = ctx.require_group("merchants")
    status = ctx.query.get("status")
    if status not in coupons.CAMPAIGN_STATUSES:
        raise BadRequest(f"status: one of {', '.join(coupons.CAMPAIGN_STATUSES)}")
    return coupons.my_campaigns(merchant, status, ctx.page)


@api.route("POST", "/merchants/me/coupons/{campaign_id}/end",
           summary="End a campaign: redeem answers 409 Ended from then on; issued coupons stay valid (idempotent)",
           response=CampaignOut, group="merchants", errors=(403, 404))
def end_campaign(ctx, campaign_id):
    merchant = ctx.require_group("merchants")
    return coupons.end_campaign(merchant, campaign_id)


@api.route("GET", "/merchants/me/coupons/lookup",
           summary="A coupon of the caller's store, without using it (another store's code is 404)",
           response=CouponLookupOut, group="merchants", errors=(404,),
           query={"code": Query("The coupon code", required=True)})
def lookup_coupon(ctx):
    merchant = ctx.require_group("merchants")
    code = ctx.query.get("code")
    if not code:
        raise BadRequest("code: required")
    return coupons.lookup_coupon(merchant, code)
