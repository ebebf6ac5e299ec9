"""`python -m chalicelib.cli`: the local stack, for a person at a terminal.

    python -m chalicelib.cli create-user ana@example.com --group merchants   # prints the user id
    TOKEN=$(python -m chalicelib.cli token ana@example.com)
    curl -H "Authorization: $TOKEN" http://127.0.0.1:8000/me
    python -m chalicelib.cli demo                                            # the demo data set
    python -m chalicelib.cli failures list                                   # stream records set aside
    python -m chalicelib.cli failures replay --all                           # ... delivered again
    python -m chalicelib.cli audience rebuild USER_ID                       # repair a fan-out audience

It reads `.local/stack.json`, which `make dev` writes once the stack is up (another file with
`--stack-file` or STACK_STATE_FILE). `failures ... --aws --queue-url URL` works on a deployed
stage instead, with the usual AWS credentials: it reads the records back from the stream and
invokes the deployed functions; so does `audience rebuild ... --aws --stack-name NAME`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from chalicelib.config import COGNITO_GROUPS

DEFAULT_PASSWORD = "Jianghu-local-1"
DEFAULT_STATE = Path(__file__).resolve().parents[1] / ".local" / "stack.json"


class CliError(Exception):
    """A problem the person at the terminal can fix; printed without a traceback."""


def load_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(f"{path} not found: is the local stack running? Start it with `make dev`.") from None
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}") from None


def _session(state: dict):
    import boto3

    return boto3.Session(
        region_name=state.get("region", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )


def _client(state: dict, service: str):
    return _session(state).client(service, endpoint_url=state["aws_endpoint_url"])


# -- users ----------------------------------------------------------------------------------------
def create_user(state: dict, email: str, password: str, groups: list[str], name: str | None = None) -> str:
    """Sign up and confirm a user; confirming runs the pool's sign-up trigger, which creates the
    profile (named `name` if given: an admin may write the attribute users may not)."""
    from chalicelib.domain.names import InvalidDisplayName, check_display_name

    if name is not None:
        try:
            name = check_display_name(name)
        except InvalidDisplayName as exc:
            raise CliError(f"--name {exc}") from None
    cognito = _client(state, "cognito-idp")
    try:
        result = cognito.sign_up(ClientId=state["user_pool_client_id"], Username=email, Password=password,
                                 UserAttributes=[{"Name": "email", "Value": email}])
    except cognito.exceptions.UsernameExistsException:
        raise CliError(f"{email} already exists; `token {email}` signs them in") from None
    except (cognito.exceptions.InvalidPasswordException, cognito.exceptions.InvalidParameterException) as exc:
        raise CliError(exc.response["Error"]["Message"]) from None
    if name is not None:
        cognito.admin_update_user_attributes(UserPoolId=state["user_pool_id"], Username=email,
                                             UserAttributes=[{"Name": "name", "Value": name}])
    cognito.admin_confirm_sign_up(UserPoolId=state["user_pool_id"], Username=email)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=state["user_pool_id"], Username=email, GroupName=group)
    return result["UserSub"]


def token(state: dict, email: str, password: str) -> str:
    cognito = _client(state, "cognito-idp")
    try:
        result = cognito.initiate_auth(ClientId=state["user_pool_client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                       AuthParameters={"USERNAME": email, "PASSWORD": password})
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException):
        raise CliError(f"wrong email or password for {email}") from None
    return result["AuthenticationResult"]["IdToken"]


# -- set-aside stream records ---------------------------------------------------------------------
def _use_local_app(state: dict) -> object:
    """Import the app configured for the local stack, so its handlers write where the stack reads."""
    env = {
        "AWS_ENDPOINT_URL": state["aws_endpoint_url"],
        "AWS_DEFAULT_REGION": state.get("region", "us-east-1"),
        "AWS_REGION": state.get("region", "us-east-1"),
        "STAGE": state.get("stage", "dev"),
        "TABLE_PREFIX": state.get("stack_name", "jianghu-dev"),
        "USER_POOL_ID": state.get("user_pool_id", ""),
        "USER_POOL_CLIENT_ID": state.get("user_pool_client_id", ""),
        "STREAM_FAILURES_QUEUE_URL": state.get("stream_failures_queue_url") or "",
        **state.get("environment", {}),
    }
    os.environ.update(env)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.pop("AWS_PROFILE", None)
    for name, value in (("POWERTOOLS_LOG_LEVEL", "CRITICAL"), ("POWERTOOLS_TRACE_DISABLED", "true"),
                        ("POWERTOOLS_METRICS_DISABLED", "true")):
        os.environ.setdefault(name, value)
    from chalicelib.config import reset_settings

    reset_settings()
    from app import app

    return app


def _failure_clients(args) -> tuple[object, object, str, str]:
    """(sqs, dynamodbstreams, queue url, region) for the local stack or, with --aws, a deployed stage."""
    if args.aws:
        import boto3

        queue_url = args.queue_url or os.environ.get("STREAM_FAILURES_QUEUE_URL")
        if not queue_url:
            raise CliError("--aws needs --queue-url (the StreamFailuresQueueUrl output of the infra stack)")
        session = boto3.Session()
        return session.client("sqs"), session.client("dynamodbstreams"), queue_url, session.region_name
    state = load_state(args.stack_file)
    queue_url = args.queue_url or state.get("stream_failures_queue_url")
    if not queue_url:
        raise CliError("the stack has no stream failures queue (stream_failures_queue_url)")
    return _client(state, "sqs"), _client(state, "dynamodbstreams"), queue_url, state.get("region", "us-east-1")


def failures_list(args) -> int:
    from chalicelib.local.failures import list_set_aside

    sqs, _, queue_url, _ = _failure_clients(args)
    rows = list_set_aside(sqs, queue_url)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print("No stream records are set aside.")
        return 0
    for row in rows:
        keys = json.dumps(row["keys"], sort_keys=True) if row["keys"] is not None else "(read from the stream)"
        print(f"{row['id']}  {row['handler']}  table={row['table']}  sequence={row['sequence']}  "
              f"event={row['event'] or '?'}  keys={keys}")
        print(f"    attempts={row['attempts']}  set aside at {row['set_aside_at']}  error: {row['error'] or '-'}")
    print(f"{len(rows)} record(s) set aside. `failures replay --all` (or an id) delivers them again.")
    return 0


def failures_replay(args) -> int:
    from chalicelib.local.failures import InProcessInvoker, LambdaInvoker, replay

    sqs, streams, queue_url, region = _failure_clients(args)
    if args.aws:
        import boto3

        invoke = LambdaInvoker(boto3.Session().client("lambda"))
    else:
        invoke = InProcessInvoker(_use_local_app(load_state(args.stack_file)), region)
    ids = None if args.all else args.ids
    results = replay(sqs, queue_url, streams, invoke, region=region, ids=ids)
    for wanted in ids or ():
        if not any(result.message_id.startswith(wanted) for result in results):
            print(f"{wanted}: no set-aside record has this id", file=sys.stderr)
    for result in results:
        outcome = "replayed, removed from the queue" if result.ok else "failed again, kept on the queue"
        print(f"{result.message_id}  {result.handler}  sequence={result.sequence}: {outcome} ({result.detail})")
    if not results:
        print("Nothing to replay.")
    missing = bool(ids) and len(results) < len(ids)
    return 0 if all(result.ok for result in results) and not missing else 1


def audience_rebuild(args) -> int:
    """Rebuild users' audience buckets (what a fan-out reads) from their Follow items."""
    if args.aws:
        if not args.stack_name:
            raise CliError("--aws needs --stack-name (the stage's infra stack, e.g. jianghu-prod)")
        os.environ["TABLE_PREFIX"] = args.stack_name
        from chalicelib.config import reset_settings

        reset_settings()
    else:
        _use_local_app(load_state(args.stack_file))
    from chalicelib.services.audience import rebuild_from_follows

    for user_id in args.user_ids:
        print(f"{user_id}: audience rebuilt from {rebuild_from_follows(user_id)} follower(s)")
    return 0


# -- the command line -----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack-file", type=Path,
                        default=Path(os.environ.get("STACK_STATE_FILE") or DEFAULT_STATE),
                        help="the local stack's state file (default .local/stack.json, or $STACK_STATE_FILE)")
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create-user", help="create a confirmed user in the local pool; prints the user id")
    create.add_argument("email")
    create.add_argument("--password", default=DEFAULT_PASSWORD, help=f"default {DEFAULT_PASSWORD}")
    create.add_argument("--name", help="display name (1-50 visible characters; default shopper-<id>)")
    create.add_argument("--group", action="append", choices=COGNITO_GROUPS, default=[], dest="groups",
                        help="put the user in this group (repeatable)")

    sign_in = commands.add_parser("token", help="sign a user in; prints their IdToken (TOKEN=$(...))")
    sign_in.add_argument("email")
    sign_in.add_argument("--password", default=DEFAULT_PASSWORD, help=f"default {DEFAULT_PASSWORD}")

    commands.add_parser("demo", help="load the demo data set into the running stack; prints the demo users")

    failures = commands.add_parser("failures", help="stream records set aside after failing (the failures queue)")
    failure_commands = failures.add_subparsers(dest="failures_command", required=True)
    for name, help_text in (("list", "show the set-aside records"),
                            ("replay", "deliver set-aside records to their handler again")):
        sub = failure_commands.add_parser(name, help=help_text)
        sub.add_argument("--aws", action="store_true",
                         help="a deployed stage (AWS credentials from the environment) instead of the local stack")
        sub.add_argument("--queue-url", help="the failures queue (default: the local stack's)")
        if name == "list":
            sub.add_argument("--json", action="store_true", help="print JSON")
        else:
            which = sub.add_mutually_exclusive_group(required=True)
            which.add_argument("--all", action="store_true", help="every set-aside record")
            which.add_argument("ids", nargs="*", default=[], metavar="ID",
                               help="message ids (or unique prefixes) from `failures list`")

    audience = commands.add_parser("audience", help="the fan-out's lists of followers (audience buckets)")
    audience_commands = audience.add_subparsers(dest="audience_command", required=True)
    rebuild = audience_commands.add_parser(
        "rebuild", help="rebuild users' audience from their Follow items (repair; run while their follows are quiet)")
    rebuild.add_argument("user_ids", nargs="+", metavar="USER_ID")
    rebuild.add_argument("--aws", action="store_true",
                         help="a deployed stage (AWS credentials from the environment) instead of the local stack")
    rebuild.add_argument("--stack-name", help="with --aws: the stage's infra stack (its tables' prefix)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "create-user":
            print(create_user(load_state(args.stack_file), args.email, args.password, args.groups, args.name))
        elif args.command == "token":
            print(token(load_state(args.stack_file), args.email, args.password))
        elif args.command == "demo":
            from chalicelib.local.demo import load_demo

            users = load_demo(load_state(args.stack_file))
            for user in users:
                groups = ",".join(user["groups"]) or "-"
                print(f"{user['email']:<32} {user['password']}  groups={groups:<10} user_id={user['user_id']}")
        elif args.command == "audience":
            return audience_rebuild(args)
        elif args.failures_command == "list":
            return failures_list(args)
        else:
            return failures_replay(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
