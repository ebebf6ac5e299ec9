"""Products, reviews, helpful marks and wish lists."""

from typing import TYPE_CHECKING

from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import products, reviews, wishlists

if TYPE_CHECKING:
    from chalicelib.schemas.advice import (
        CreateProduct,
        EditProduct,
        EditReview,
        HelpfulOut,
        MarkHelpful,
        ProductOut,
        ReviewOut,
        WishlistEntryOut,
        WriteReview,
    )
else:
    (
        CreateProduct, EditProduct, EditReview, HelpfulOut, MarkHelpful, ProductOut, ReviewOut, WishlistEntryOut,
        WriteReview,
    ) = lazy_models(
        "chalicelib.schemas.advice",
        "CreateProduct", "EditProduct", "EditReview", "HelpfulOut", "MarkHelpful", "ProductOut", "ReviewOut",
        "WishlistEntryOut", "WriteReview",
    )

api = Api(__name__, tag="products")
blueprint = api.blueprint


@api.route("POST", "/products", summary="Create a product (merchants only)", body=CreateProduct,
           response=ProductOut, status=201, group="merchants")
def create_product(ctx):
    caller = ctx.require_group("merchants")
    body = ctx.body
    return products.create(caller, body.title, body.price_cents, body.image_url, body.labels,
                           description=body.description, currency=body.currency)


@api.route("GET", "/products", summary="Products, newest first, optionally of one label", response=ProductOut,
           paginated=True, query={"label": "Only products with this label (see GET /labels)"})
def list_products(ctx):
    return products.list_products(ctx.query.get("label"), ctx.page)


@api.route("GET", "/products/{product_id}", summary="A product", response=ProductOut)
def get_product(ctx, product_id):
    return products.product(product_id)


@api.route("GET", "/merchants/{merchant_id}/products", summary="A merchant's products, newest first",
           response=ProductOut, paginated=True)
def list_merchant_products(ctx, merchant_id):
    return products.merchant_products(merchant_id, ctx.page)


@api.route("POST", "/products/{product_id}/reviews", summary="Review a product (once per user; not your own)",
           body=WriteReview, response=ReviewOut, status=201, errors=(403, "AlreadyReviewed"))
def write_review(ctx, product_id):
    return reviews.write(ctx.user, product_id, ctx.body.rating, ctx.body.body, ctx.body.image_urls)


@api.route("GET", "/products/{product_id}/reviews", summary="A product's reviews, newest first",
           response=ReviewOut, paginated=True)
def list_reviews(ctx, product_id):
    return reviews.list_reviews(ctx.user, product_id, ctx.page)


@api.route("PUT", "/reviews/{review_id}/helpful", summary="Mark a review helpful (true) or take it back (false)",
           body=MarkHelpful, response=HelpfulOut, errors=(403,))
def mark_review_helpful(ctx, review_id):
    return reviews.mark_helpful(ctx.user, review_id, ctx.body.value)


@api.route("PUT", "/me/wishlist/{product_id}", summary="Add a product to the caller's wish list (idempotent)",
           response=WishlistEntryOut)
def add_to_wishlist(ctx, product_id):
    return wishlists.add(ctx.user, product_id)


@api.route("DELETE", "/me/wishlist/{product_id}", summary="Remove a product from the caller's wish list "
           "(idempotent)", status=204)
def remove_from_wishlist(ctx, product_id):
    wishlists.remove(ctx.user, product_id)


@api.route("GET", "/users/{user_id}/wishlist", summary="A user's wish list, newest products first (403 unless "
           "its owner lets the caller see it)", response=WishlistEntryOut, paginated=True, errors=(403,))
def get_wishlist(ctx, user_id):
    return wishlists.wishlist(user_id, ctx.page, viewer_id=ctx.user.user_id)


@api.route("PATCH", "/products/{product_id}", summary="Edit a product (its store only)", body=EditProduct,
           response=ProductOut, errors=(403,))
def edit_product(ctx, product_id):
    return products.edit(ctx.user, product_id, ctx.body.model_dump(exclude_unset=True, exclude_none=True))


@api.route("DELETE", "/products/{product_id}", summary="Delete a product (its store only): it leaves Good Finds; "
           "wish lists keep it as unavailable", status=204, errors=(403,))
def delete_product(ctx, product_id):
    products.delete(ctx.user, product_id)


@api.route("PATCH", "/reviews/{review_id}", summary="Edit a review's rating, text or images (author only)",
           body=EditReview, response=ReviewOut, errors=(403,))
def edit_review(ctx, review_id):
    return reviews.edit(ctx.user, review_id, ctx.body.model_dump(exclude_unset=True, exclude_none=True))


@api.route("DELETE", "/reviews/{review_id}", summary="Delete a review (author only); the helpful points it "
           "earned are reversed", status=204, errors=(403,))
def delete_review(ctx, review_id):
    reviews.delete(ctx.user, review_id)
