"""Real Cognito users with real tokens, the way clients get them."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import jwt

PASSWORD = "Correct-horse-9"
_counter = itertools.count()


@dataclass
class TestUser:
    __test__ = False
    user_id: str
    email: str
    token: str
    groups: tuple[str, ...]

    @property
    def headers(self) -> dict:
        return {"Authorization": self.token, "Content-Type": "application/json"}


def sign_in(cognito, client_id: str, email: str, password: str = PASSWORD) -> str:
    result = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return result["AuthenticationResult"]["IdToken"]


class UserFactory:
    def __init__(self, aws):
        self.cognito = aws.session.client("cognito-idp")
        self.pool_id = aws.outputs["UserPoolId"]
        self.client_id = aws.outputs["UserPoolClientId"]

    def __call__(self, name: str = "shopper", groups: tuple[str, ...] = ()) -> TestUser:
        email = f"{name}-{next(_counter)}-{uuid.uuid4().hex[:6]}@example.com"
        self.cognito.admin_create_user(
            UserPoolId=self.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        self.cognito.admin_set_user_password(UserPoolId=self.pool_id, Username=email, Password=PASSWORD, Permanent=True)
        for group in groups:
            self.cognito.admin_add_user_to_group(UserPoolId=self.pool_id, Username=email, GroupName=group)
        token = sign_in(self.cognito, self.client_id, email)
        user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
        return TestUser(user_id=user_id, email=email, token=token, groups=tuple(groups))
