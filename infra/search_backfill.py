"""Index every existing user, store, product, question and circle: an operator's one-off.

    python -m infra.search_backfill --stack-name jianghu-prod          # a deployed stage (AWS credentials)
    python -m infra.search_backfill --local                            # the local stack (.local/stack.json)
    python -m infra.search_backfill --local --type store --type circle

For a stage that had items before the search index (or lost it), and for circles created before the
circle directory. Each item goes through the same stream effect its records would
(`services.search.reindex` on an INSERT of its key: it reads the item as it is now and puts its
entries; `services.circle_directory.list_circle`), so running it while the streams run, or twice,
is harmless. It walks each table with a paginated Scan, with the operator's credentials: the app's
code never scans and its role may not (tests/infra/test_policies.py), which is why this lives here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

TYPES = ("user", "store", "product", "question", "circle")


def backfill(kinds: tuple[str, ...] = TYPES) -> dict[str, int]:
    """Send every item of these types through its search effect; returns the items seen per type."""
    from boto3.dynamodb.types import TypeDeserializer

    from chalicelib.domain.changes import inserted
    from chalicelib.models.base import connection
    from chalicelib.services.circle_directory import list_circle
    from chalicelib.services.search import SOURCES, reindex

    deserializer = TypeDeserializer()
    client = connection().client
    seen: dict[str, int] = {}
    for kind in kinds:
        source = SOURCES[kind]
        seen[kind] = 0
        pages = client.get_paginator("scan").paginate(TableName=source.model().Meta.table_name,
                                                      ProjectionExpression="#k",
                                                      ExpressionAttributeNames={"#k": source.id_attr})
        for page in pages:
            for raw in page.get("Items", []):
                keys = {source.id_attr: str(deserializer.deserialize(raw[source.id_attr]))}
                # an image with a name, so the effect reads the item (the real name comes from that read)
                reindex(source, inserted(source.logical_table, {**keys, source.name_attr: "?"}, keys=keys,
                                         sequence_number="backfill"))
                if kind == "circle":
                    list_circle(inserted(source.logical_table, keys, keys=keys, sequence_number="backfill"))
                seen[kind] += 1
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.search_backfill", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack-name", help="a deployed stage's infra stack (its tables' prefix)")
    where.add_argument("--local", action="store_true", help="the local stack (its state file)")
    parser.add_argument("--stack-file", type=Path, default=None, help="the local stack's state file")
    parser.add_argument("--type", action="append", dest="types", choices=TYPES, help="only this type (repeatable)")
    args = parser.parse_args(argv)
    if args.local:
        from chalicelib.cli import DEFAULT_STATE, _use_local_app, load_state

        _use_local_app(load_state(args.stack_file or Path(os.environ.get("STACK_STATE_FILE") or DEFAULT_STATE)))
    else:
        os.environ["TABLE_PREFIX"] = args.stack_name
        from chalicelib.config import reset_settings

        reset_settings()
    for kind, count in backfill(tuple(args.types or TYPES)).items():
        print(f"{kind}: {count} item(s) indexed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
