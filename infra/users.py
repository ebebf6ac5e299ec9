"""Users and tokens in a deployed stage's Cognito pool, for an operator at a terminal.

    python -m infra.users --stage dev create ana@example.com [--group merchants]   # prints password + token
    python -m infra.users --stage dev token ana@example.com --password '...'        # prints an IdToken

The pool and client ids come from the stage config `make deploy` wrote. Creating a user uses the
Cognito admin API with your AWS credentials; the token comes from `USER_PASSWORD_AUTH`, exactly
as a client app gets one. Send it as `Authorization: <token>`.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from chalicelib.config import COGNITO_GROUPS
from infra.stages import CHALICE_CONFIG_PATH


def stage_pool(stage: str, path=CHALICE_CONFIG_PATH) -> tuple[str, str]:
    variables = json.loads(path.read_text(encoding="utf-8"))["stages"][stage].get("environment_variables", {})
    if not variables.get("USER_POOL_ID"):
        raise SystemExit(f"stage {stage} has no USER_POOL_ID in .chalice/config.json: run `make deploy STAGE={stage}`")
    return variables["USER_POOL_ID"], variables["USER_POOL_CLIENT_ID"]


def new_password() -> str:
    # 16 random characters, plus one of each class the strictest Cognito password policy asks for
    return secrets.token_urlsafe(12) + "Aa7!"


def create_user(cognito, pool_id: str, email: str, password: str, groups: list[str]) -> None:
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)


def id_token(cognito, client_id: str, email: str, password: str) -> str:
    result = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": password}
    )
    return result["AuthenticationResult"]["IdToken"]


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a confirmed user; print their password and a token")
    create.add_argument("email")
    create.add_argument("--group", action="append", default=[], choices=COGNITO_GROUPS)
    token = commands.add_parser("token", help="print an IdToken for an existing user")
    token.add_argument("email")
    token.add_argument("--password", required=True)
    args = parser.parse_args(argv)

    pool_id, client_id = stage_pool(args.stage)
    cognito = boto3.client("cognito-idp", region_name=pool_id.split("_", 1)[0])  # a pool id starts with its region
    if args.command == "create":
        password = new_password()
        create_user(cognito, pool_id, args.email, password, args.group)
        print(f"password: {password}", file=sys.stderr)
        print(id_token(cognito, client_id, args.email, password))
    else:
        print(id_token(cognito, client_id, args.email, args.password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
