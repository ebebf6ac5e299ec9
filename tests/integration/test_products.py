"""Merchants' products: creation (merchants only), reading, a merchant's list."""

from tests.support.advice import product
from tests.support.api import call


def test_a_merchant_creates_a_product(client, users):
    # Given a merchant
    shop = users("shop", groups=("merchants",))
    # When they create a product
    response = call(client, "POST", "/products", shop, {
        "title": "Mori linen dress", "price_cents": 12_900, "image_url": "https://img.example.com/d.jpg",
        "labels": ["mori-girl", "small-fresh"]})
    # Then it is stored and readable by anyone
    assert response.status_code == 201, response.data
    created = response.data
    assert created["merchant_id"] == shop.user_id
    assert (created["price_cents"], created["labels"]) == (12_900, ["mori-girl", "small-fresh"])
    read = call(client, "GET", f"/products/{created['product_id']}", users())
    assert read.status_code == 200 and read.data == created


def test_only_merchants_create_products(client, users):
    shopper = users("shopper")
    response = call(client, "POST", "/products", shopper, {"title": "x", "price_cents": 100, "labels": ["camera"]})
    assert response.status_code == 403
    assert response.data["Code"] == "ForbiddenError"
    judge = users("judge", groups=("judges",))
    assert call(client, "POST", "/products", judge,
                {"title": "x", "price_cents": 100, "labels": ["camera"]}).status_code == 403


def test_product_creation_refuses_invalid_input(client, users):
    shop = users("shop", groups=("merchants",))
    good = {"title": "Camera", "price_cents": 100, "labels": ["camera"]}
    cases = [
        ({**good, "price_cents": 0}, "price_cents"),
        ({**good, "price_cents": -5}, "price_cents"),
        ({**good, "price_cents": 9.99}, "price_cents"),
        ({**good, "price_cents": "100"}, "price_cents"),
        ({**good, "image_url": "http://img.example.com/a.jpg"}, "image_url"),
        ({**good, "labels": ["nope"]}, "labels"),
        ({**good, "labels": []}, "labels"),
        ({**good, "title": ""}, "title"),
        ({**good, "stock": 3}, "stock"),
    ]
    for body, field in cases:
        response = call(client, "POST", "/products", shop, body)
        assert response.status_code == 400, body
        assert field in response.data["Message"], (body, response.data)


def test_unknown_product_is_404(client, users):
    assert call(client, "GET", "/products/nope", users()).status_code == 404


def test_a_merchants_products_are_listed_newest_first_with_paging(client, users):
    shop, other = users("shop", groups=("merchants",)), users("other", groups=("merchants",))
    titles = [product(client, shop, title=f"p{i}")["title"] for i in range(3)]
    product(client, other, title="not mine")
    viewer = users()
    page1 = call(client, "GET", f"/merchants/{shop.user_id}/products?limit=2", viewer).data
    page2 = call(client, "GET", f"/merchants/{shop.user_id}/products?limit=2&cursor={page1['next_cursor']}",
                 viewer).data
    assert [p["title"] for p in page1["items"] + page2["items"]] == list(reversed(titles))
    assert page2["next_cursor"] is None
    assert call(client, "GET", "/merchants/nobody/products", viewer).status_code == 404  # an unknown store


def test_overlong_ids_are_unknown_not_errors(client, users):
    alice, long_id = users(), "x" * 3000
    assert call(client, "GET", f"/products/{long_id}", alice).status_code == 404
    assert call(client, "GET", f"/products/{long_id}/reviews", alice).status_code == 404
    assert call(client, "GET", f"/questions/{long_id}", alice).status_code == 404
    assert call(client, "PUT", f"/answers/{long_id}/vote", alice, {"value": 1}).status_code == 404
    assert call(client, "PUT", f"/me/wishlist/{long_id}", alice).status_code == 404
    assert call(client, "GET", f"/merchants/{long_id}/products", alice).status_code == 404
