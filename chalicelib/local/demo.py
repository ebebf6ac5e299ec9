"""A demo data set for the running local stack (`make dev DEMO=1`, or `python -m chalicelib.cli demo`).

Everything goes through the front doors, as a client would: users sign up through Cognito, and
profiles, follows, posts, questions, products, coupons and ratings are made through the HTTP API.
Only the routes the running API serves (its `/openapi.json`) are used, so the demo grows with the
app; a step the API refuses is reported and skipped. Loading the demo never stops the stack.

Every demo user signs in with the password `DEMO_PASSWORD`.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DEMO_PASSWORD = "Jianghu-demo-1"
DEMO_DOMAIN = "demo.jianghu.test"


@dataclass
class DemoUser:
    key: str
    display_name: str
    bio: str
    labels: list[str]
    groups: tuple[str, ...] = ()
    user_id: str = ""
    token: str = ""

    @property
    def email(self) -> str:
        return f"{self.key}@{DEMO_DOMAIN}"

    def public(self) -> dict:
        return {"name": self.key, "email": self.email, "password": DEMO_PASSWORD, "user_id": self.user_id,
                "groups": list(self.groups), "display_name": self.display_name}


CAST = (
    DemoUser("mei", "Mei's Atelier", "Hand-made lolita and mori-girl dresses.", ["lolita", "mori-girl"],
             ("merchants",)),
    DemoUser("judge-an", "Judge An", "Twenty years in retail quality control.", ["makeup"], ("judges",)),
    DemoUser("judge-bo", "Judge Bo", "Runs a consumer-rights column.", ["digital"], ("judges",)),
    DemoUser("judge-cy", "Judge Cy", "Former marketplace trust & safety lead.", ["cooking"], ("judges",)),
    DemoUser("lin", "Lin", "Lolita wardrobe, one petticoat at a time.", ["lolita", "small-fresh"]),
    DemoUser("kai", "Kai", "Cameras, phones, and whatever charges over USB-C.", ["digital", "camera", "phone"]),
    DemoUser("yu", "Yu", "Cooks seafood; reviews knives.", ["cooking", "seafood"]),
)


@dataclass
class Api:
    """A small JSON client for the stack's HTTP API that never raises on an HTTP error."""

    base_url: str
    log: list[str] = field(default_factory=list)
    routes: set[tuple[str, str]] = field(default_factory=set)

    def request(self, method: str, path: str, user: DemoUser | None = None, body=None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if user is not None:
            request.add_header("Authorization", user.token)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else {})
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw) if raw else {}
            except ValueError:
                return error.code, {"Message": raw[:200].decode(errors="replace")}

    def serves(self, method: str, template: str) -> bool:
        return (method.upper(), template) in self.routes

    def step(self, method: str, template: str, path: str, user: DemoUser, body=None) -> dict | None:
        """Call a route if the API serves it; return the response body on success, else None."""
        if not self.serves(method, template):
            return None
        status, payload = self.request(method, path, user, body)
        if status >= 300:
            self.log.append(f"skipped {method} {path} as {user.key}: {status} {payload.get('Message', payload)}")
            return None
        return payload


def _load_routes(api: Api) -> None:
    status, document = api.request("GET", "/openapi.json")
    if status != 200:
        raise RuntimeError(f"GET /openapi.json answered {status}")
    for path, operations in (document.get("paths") or {}).items():
        for method in operations:
            api.routes.add((method.upper(), path))


def _sign_in(cognito, client_id: str, user: DemoUser) -> None:
    import jwt

    result = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": user.email, "PASSWORD": DEMO_PASSWORD})
    user.token = result["AuthenticationResult"]["IdToken"]
    user.user_id = jwt.decode(user.token, options={"verify_signature": False})["sub"]


def _sign_up(cognito, state: dict, user: DemoUser) -> bool:
    """Create the user (False if they already exist), confirm them and put them in their groups."""
    pool_id, client_id = state["user_pool_id"], state["user_pool_client_id"]
    try:
        cognito.sign_up(ClientId=client_id, Username=user.email, Password=DEMO_PASSWORD,
                        UserAttributes=[{"Name": "email", "Value": user.email}])
    except cognito.exceptions.UsernameExistsException:
        return False
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=user.email)
    for group in user.groups:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=user.email, GroupName=group)
    return True


def _id(payload: dict | None, kind: str) -> str | None:
    if not payload:
        return None
    return payload.get(f"{kind}_id") or payload.get("id")


def _content(api: Api, users: dict[str, DemoUser]) -> None:
    mei, lin, kai, yu = users["mei"], users["lin"], users["kai"], users["yu"]
    judges = [users["judge-an"], users["judge-bo"], users["judge-cy"]]

    for user in users.values():
        api.step("PUT", "/me", "/me", user, {"display_name": user.display_name, "bio": user.bio, "labels": user.labels})
    for follower, followee in ((lin, kai), (kai, lin), (yu, lin), (lin, mei), (kai, mei), (yu, mei), (yu, kai)):
        api.step("PUT", "/users/{user_id}/follow", f"/users/{followee.user_id}/follow", follower)

    # the merchant's store, products and a coupon campaign
    api.step("PUT", "/merchants/me", "/merchants/me", mei,
             {"store_name": "Mei's Atelier", "description": "Hand-made dresses, small batches.",
              "labels": ["lolita", "mori-girl"]})
    products = []
    for title, price, labels in (("Strawberry JSK dress", 18900, ["lolita"]),
                                 ("Linen smock, undyed", 7900, ["mori-girl"]),
                                 ("Lace headdress", 2900, ["lolita", "small-fresh"])):
        product_id = _id(api.step("POST", "/products", "/products", mei,
                                  {"title": title, "price_cents": price, "labels": labels}), "product")
        if product_id:
            products.append(product_id)
    expires = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api.step("POST", "/merchants/me/coupons", "/merchants/me/coupons", mei,
             {"title": "10% off your first dress", "discount_cents": 1500, "min_spend_cents": 10000,
              "points_cost": 20, "total_quantity": 50, "per_user_limit": 1, "expires_at": expires})

    # the judges' panel rates the store
    for judge, score in zip(judges, (93, 88, 91), strict=True):
        api.step("PUT", "/merchants/{merchant_id}/ratings/me", f"/merchants/{mei.user_id}/ratings/me", judge,
                 {"score": score, "comment": "Consistent quality, honest photos."})

    # reviews, helpful marks and a wish list
    if products:
        review_id = _id(api.step("POST", "/products/{product_id}/reviews", f"/products/{products[0]}/reviews", lin,
                                 {"rating": 5, "body": "The print is crisp and the shirring is generous."}),
                        "review")
        if review_id:
            api.step("PUT", "/reviews/{review_id}/helpful", f"/reviews/{review_id}/helpful", kai, {"value": True})
        api.step("PUT", "/me/wishlist/{product_id}", f"/me/wishlist/{products[-1]}", yu)

    # posts, one with a poll, and a vote
    post = {"text": "Tea party outfit, finally complete!", "labels": ["lolita"]}
    if products:
        post["product_ids"] = products[:1]
    api.step("POST", "/posts", "/posts", lin, post)
    poll = _id(api.step("POST", "/posts", "/posts", kai,
                        {"text": "Which one for street photography?", "labels": ["camera"],
                         "poll": {"options": [{"text": "35mm prime"}, {"text": "24-70 zoom"}]}}), "post")
    if poll:
        api.step("POST", "/posts/{post_id}/poll/votes", f"/posts/{poll}/poll/votes", lin, {"option": 0})
    api.step("POST", "/posts", "/posts", yu, {"text": "Steamed grouper tonight.", "labels": ["seafood", "cooking"]})

    # a circle with a member and a post
    group = _id(api.step("POST", "/groups", "/groups", lin,
                         {"name": "Lolita tea parties", "description": "Meet-ups, coordinates and swaps.",
                          "label": "lolita"}), "group")
    if group:
        api.step("PUT", "/groups/{group_id}/members/me", f"/groups/{group}/members/me", yu)
        api.step("POST", "/posts", "/posts", yu, {"text": "First tea party next Sunday?", "group_id": group})

    # a question with answers, votes and an accepted answer
    question = _id(api.step("POST", "/questions", "/questions", yu,
                            {"title": "Which knife for filleting fish?", "labels": ["cooking", "seafood"],
                             "body": "Budget around 80 dollars; I fillet two or three fish a week."}), "question")
    if question:
        answers = []
        for author, body in ((kai, "A flexible 7-inch fillet knife; keep it sharp."),
                             (lin, "A deba if you also break down heads and bones.")):
            answer = _id(api.step("POST", "/questions/{question_id}/answers", f"/questions/{question}/answers",
                                  author, {"body": body}), "answer")
            if answer:
                answers.append(answer)
        for answer in answers:
            api.step("PUT", "/answers/{answer_id}/vote", f"/answers/{answer}/vote", yu, {"value": 1})
        if answers:
            api.step("POST", "/questions/{question_id}/accept", f"/questions/{question}/accept", yu,
                     {"answer_id": answers[0]})


def load_demo(state: dict, *, out=None) -> list[dict]:
    """Load the demo data set into the stack described by `state` (`.local/stack.json`).

    Returns the demo users (name, email, password, user_id, groups). Never raises: problems are
    reported on `out` (stderr by default) and the rest of the demo goes on.
    """
    import boto3

    out = out or sys.stderr
    users = {user.key: DemoUser(user.key, user.display_name, user.bio, list(user.labels), user.groups)
             for user in CAST}
    api = Api(state["api_url"])
    try:
        session = boto3.Session(region_name=state["region"], aws_access_key_id="local",
                                aws_secret_access_key="local")
        cognito = session.client("cognito-idp", endpoint_url=state["aws_endpoint_url"])
        fresh = [_sign_up(cognito, state, user) for user in users.values()]
        for user in users.values():
            _sign_in(cognito, state["user_pool_client_id"], user)
    except Exception as exc:
        print(f"demo: could not create the demo users: {type(exc).__name__}: {exc}", file=out)
        return [user.public() for user in users.values() if user.user_id]
    if not any(fresh):
        print("demo: the demo users already exist; their data was loaded before", file=out)
        return [user.public() for user in users.values()]
    try:
        _load_routes(api)
        _content(api, users)
    except Exception as exc:
        api.log.append(f"stopped early: {type(exc).__name__}: {exc}")
    for line in api.log:
        print(f"demo: {line}", file=out)
    return [user.public() for user in users.values()]
