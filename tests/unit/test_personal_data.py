"""Every table of the template is either covered by the export and the erasure (a key or an index on
the user, no Scan) or listed with the reason it holds nothing personal: a table added later fails
here until it is registered in `chalicelib/services/personal_data.py`."""

from __future__ import annotations

from chalicelib.local.template import load_template
from chalicelib.services import erasure
from chalicelib.services.personal_data import KEPT, REGISTRY, NothingPersonal, Owned


def template_tables() -> dict[str, dict]:
    """Logical name (without the `Table` suffix) -> properties, of every DynamoDB table."""
    return {logical.removesuffix("Table"): resource["Properties"]
            for logical, resource in load_template()["Resources"].items()
            if resource["Type"] == "AWS::DynamoDB::Table"}


def test_every_table_of_the_template_is_covered_or_has_a_reason():
    tables = template_tables()
    missing = sorted(set(tables) - set(REGISTRY.entries))
    assert not missing, (f"tables with no entry in services/personal_data.py REGISTRY: {missing}; add "
                         "Owned(table, (Reach(Model, 'index attribute'),), erase='phase') or "
                         "NothingPersonal(table, 'why nothing personal')")
    unknown = sorted(set(REGISTRY.entries) - set(tables))
    assert not unknown, f"registry entries naming no table of the template: {unknown}"


def test_a_table_with_nothing_personal_says_why():
    for entry in REGISTRY.entries.values():
        if isinstance(entry, NothingPersonal):
            assert len(entry.reason) > 20, entry


def test_each_reach_is_a_query_of_a_key_or_index_that_exists_in_the_template():
    tables = template_tables()
    for table, reach in REGISTRY.reaches():
        assert reach.table == table, (table, reach)
        props = tables[table]
        if reach.index is None:
            key_schema = props["KeySchema"]
        else:
            indexes = {index["IndexName"]: index for index in props.get("GlobalSecondaryIndexes", [])}
            assert reach.index_name in indexes, f"{table} has no index {reach.index_name} in the template"
            index = indexes[reach.index_name]
            key_schema = index["KeySchema"]
            model_projection = "KEYS_ONLY" if reach.keys_only else "ALL"
            assert index["Projection"]["ProjectionType"] == model_projection, (table, reach.index_name)
        hash_key = next(key["AttributeName"] for key in key_schema if key["KeyType"] == "HASH")
        model_source = getattr(reach.model, reach.index) if reach.index else reach.model
        assert model_source._hash_key_attribute().attr_name == hash_key, (table, reach.index)
        assert reach.keys("user-1"), (table, reach)


def test_every_owned_table_names_an_erasure_phase_or_why_its_rows_stay():
    phases = set(erasure.PHASES)
    for entry in REGISTRY.owned():
        assert entry.reaches, entry.table
        if entry.erase.startswith(KEPT):
            assert len(entry.erase) > len(KEPT) + 10, entry
            continue
        names = erasure.TABLE_PHASES.get(entry.erase, (entry.erase,))
        assert set(names) <= phases, f"{entry.table}: no erasure phase {names}"


ADDED_INDEXES = {("Posts", "by_writer"), ("PollVotes", "by_user"), ("Likes", "by_user"), ("Comments", "by_author"),
                 ("Questions", "by_asker"), ("Answers", "by_author"), ("AnswerVotes", "by_voter"),
                 ("Reviews", "by_author"), ("HelpfulMarks", "by_user"), ("Ratings", "by_judge"),
                 ("LiveChat", "by_user"), ("LiveActivity", "by_viewer"), ("ModerationLog", "by_affected")}


def test_the_indexes_added_for_personal_data_hold_keys_only():
    """Cheap to keep: one small index write per row, no copy of the item (the export reads it)."""
    found = {(table, index["IndexName"]): index["Projection"]["ProjectionType"]
             for table, props in template_tables().items() for index in props.get("GlobalSecondaryIndexes", [])}
    assert {key: found.get(key) for key in ADDED_INDEXES} == dict.fromkeys(ADDED_INDEXES, "KEYS_ONLY")


def test_owned_entries_are_all_covered_by_the_export():
    """The export walks every reach of every Owned entry: none is skipped."""
    from chalicelib.services import exports

    walked = {table for table, _ in exports._reaches()}
    assert walked == {entry.table for entry in REGISTRY.owned()}
    assert all(isinstance(entry, (Owned, NothingPersonal)) for entry in REGISTRY.entries.values())


def test_an_erasure_record_is_told_apart_from_a_withdrawal():
    from chalicelib.domain.changes import MODIFY, REMOVE, Change, is_erasure

    vote = {"answer_id": "a1", "voter_id": "u1", "value": 1}
    marked = {**vote, "erased_at": "2026-11-30T00:00:00.000Z"}
    assert is_erasure(Change("AnswerVotes", MODIFY, {}, vote, marked, "1"))
    assert is_erasure(Change("AnswerVotes", REMOVE, {}, marked, None, "2"))
    assert not is_erasure(Change("AnswerVotes", REMOVE, {}, vote, None, "3"))  # the voter withdrew it
    assert not is_erasure(Change("AnswerVotes", MODIFY, {}, vote, {**vote, "value": -1}, "4"))


def test_a_phase_added_later_runs_before_the_uploads_and_profile_go(monkeypatch):
    monkeypatch.setattr(erasure, "PHASES", dict(erasure.PHASES))

    def end_live_rooms(user_id, job, cursor):
        return erasure.Progress(0, None)

    erasure.add_phase("live_rooms", end_live_rooms)
    names = list(erasure.PHASES)
    assert names[-3:] == ["live_rooms", "uploads", "profile"]
    assert names[:2] == ["tombstone", "cognito"]
