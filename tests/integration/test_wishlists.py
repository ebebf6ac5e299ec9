"""Wish lists: add and remove (idempotent), and anyone's public list with title and price."""

from tests.support.advice import product
from tests.support.api import call


def test_adding_products_to_the_wishlist(client, users):
    # Given two products
    shop, alice = users("shop", groups=("merchants",)), users("alice")
    first = product(client, shop, title="Lens", price_cents=30_000)
    second = product(client, shop, title="Strap", price_cents=1_500)
    # When alice adds both (the first twice)
    added = call(client, "PUT", f"/me/wishlist/{first['product_id']}", alice)
    assert added.status_code == 200, added.data
    assert (added.data["title"], added.data["price_cents"]) == ("Lens", 30_000)
    again = call(client, "PUT", f"/me/wishlist/{first['product_id']}", alice)
    assert again.data == added.data
    call(client, "PUT", f"/me/wishlist/{second['product_id']}", alice)
    # Then anyone sees her list, each entry with title and price
    seen = call(client, "GET", f"/users/{alice.user_id}/wishlist", users("bob")).data
    assert [(e["product_id"], e["title"], e["price_cents"]) for e in seen["items"]] == [
        (second["product_id"], "Strap", 1_500), (first["product_id"], "Lens", 30_000)]


def test_removing_from_the_wishlist_is_idempotent(client, users):
    shop, alice = users("shop", groups=("merchants",)), users("alice")
    item = product(client, shop)
    call(client, "PUT", f"/me/wishlist/{item['product_id']}", alice)
    for _ in range(2):
        assert call(client, "DELETE", f"/me/wishlist/{item['product_id']}", alice).status_code == 204
    assert call(client, "GET", f"/users/{alice.user_id}/wishlist", alice).data["items"] == []


def test_unknown_products_are_404(client, users):
    alice = users()
    assert call(client, "PUT", "/me/wishlist/nope", alice).status_code == 404
    assert call(client, "DELETE", "/me/wishlist/nope", alice).status_code == 404
    assert call(client, "GET", f"/users/{alice.user_id}/wishlist", alice).data["items"] == []


def test_wishlist_pages(client, users):
    shop, alice = users("shop", groups=("merchants",)), users("alice")
    ids = [product(client, shop, title=f"p{i}")["product_id"] for i in range(3)]
    for product_id in ids:
        call(client, "PUT", f"/me/wishlist/{product_id}", alice)
    page1 = call(client, "GET", f"/users/{alice.user_id}/wishlist?limit=2", alice).data
    page2 = call(client, "GET", f"/users/{alice.user_id}/wishlist?limit=2&cursor={page1['next_cursor']}", alice).data
    assert [e["product_id"] for e in page1["items"] + page2["items"]] == list(reversed(ids))
