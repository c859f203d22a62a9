"""The optimistic-concurrency pattern every ODM uses — update, delete or
findAndModify by _id plus a version the document no longer has — matches
nothing at once (it used to loop for 60 s and then fail with WriteConflict).
The time bounds detect hangs only: they are far above what the commands take."""
import time

import pymongo
import pytest

HANG_BOUND_S = 10


def prompt(op):
    start = time.monotonic()
    result = op()
    assert time.monotonic() - start < HANG_BOUND_S, "took as long as a hang"
    return result


def test_stale_version_matches_nothing_at_once(db):
    db.c.insert_one({"_id": 1, "a": 1, "version": 1})
    stale = {"_id": 1, "version": 3}
    r = prompt(lambda: db.c.update_one(stale, {"$set": {"b": 1}}))
    assert (r.matched_count, r.modified_count) == (0, 0)
    r = prompt(lambda: db.c.replace_one(stale, {"b": 1}))
    assert r.matched_count == 0
    assert prompt(lambda: db.c.delete_one(stale)).deleted_count == 0
    assert prompt(lambda: db.c.find_one_and_update(stale, {"$inc": {"version": 1}})) is None
    assert prompt(lambda: db.c.find_one_and_delete(stale)) is None
    assert db.c.find_one({"_id": 1}) == {"_id": 1, "a": 1, "version": 1}
    r = prompt(lambda: db.c.update_one({"_id": 1, "version": 1}, {"$inc": {"version": 1}}))
    assert r.modified_count == 1


def test_upsert_of_existing_id_with_unmet_condition_is_duplicate_key(db):
    db.c.insert_one({"_id": 1, "a": 1})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        prompt(lambda: db.c.update_one({"_id": 1, "a": 2}, {"$set": {"b": 1}}, upsert=True))
    assert db.c.count_documents({}) == 1
