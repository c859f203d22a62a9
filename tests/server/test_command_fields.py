"""Every command's fields are checked against what it implements: an unknown
field gets MongoDB 6.0's IDL answer (40415), a wrong type TypeMismatch (14), and
an option Docket does not implement yet NotImplemented (238) — never silently
ignored. Generic fields every driver sends are accepted everywhere."""
import pymongo
import pytest
from bson.son import SON


def fails(db, command, code, contains=None):
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        db.command(command)
    assert e.value.code == code, e.value.details
    if contains:
        assert contains in e.value.details["errmsg"], e.value.details
    return e.value.details


def test_unknown_fields_are_refused_with_mongodbs_idl_error(db):
    db.c.insert_one({"_id": 1})
    fails(db, SON([("find", "c"), ("filters", {})]), 40415, "BSON field 'find.filters' is an unknown field.")
    fails(db, SON([("update", "c"), ("updates", [{"q": {}, "u": {"$set": {"a": 1}}, "sort": {"a": 1}}])]),
          40415, "BSON field 'update.updates.sort' is an unknown field.")
    fails(db, SON([("delete", "c"), ("deletes", [{"q": {}, "limit": 1, "multi": True}])]),
          40415, "BSON field 'delete.deletes.multi' is an unknown field.")
    fails(db, SON([("insert", "c"), ("documents", [{}]), ("upsert", True)]), 40415, "'insert.upsert'")
    fails(db, SON([("aggregate", "c"), ("pipeline", []), ("cursor", {}), ("batchSize", 1)]), 40415)
    fails(db, SON([("count", "c"), ("filter", {})]), 40415, "'count.filter'")
    fails(db, SON([("findAndModify", "c"), ("query", {}), ("remove", True), ("returnDocument", "after")]), 40415)
    fails(db, SON([("find", "c"), ("readConcern", {"level": "local", "bogus": 1})]), 40415)
    # Nothing was written by any of them.
    assert list(db.c.find()) == [{"_id": 1}]


def test_wrong_types_are_type_mismatch(db):
    fails(db, SON([("find", "c"), ("limit", "ten")]), 14, "BSON field 'find.limit' is the wrong type 'string'")
    fails(db, SON([("find", "c"), ("hint", 5)]), 14, "'find.hint'")
    fails(db, SON([("update", "c"), ("updates", [{"q": {}, "u": {"$set": {"a": 1}}, "upsert": "yes"}])]), 14)


def test_unimplemented_options_are_refused_not_ignored(db):
    db.c.insert_many([{"_id": 1, "s": "a"}, {"_id": 2, "s": "B"}])
    # (collation is implemented: tests/server/test_collation.py)
    # (min/max are implemented: tests/server/test_min_max.py)
    fails(db, SON([("find", "c"), ("returnKey", True)]), 238)
    # A standalone refuses snapshot reads as mongod does (a replica set: NotImplemented, the change log's).
    fails(db, SON([("find", "c"), ("readConcern", {"level": "snapshot"})]), 123, "replica set member")
    fails(db, SON([("find", "c"), ("readConcern", {"level": "fastest"})]), 2)
    assert "d" not in db.list_collection_names()
    # The same options at their defaults are accepted, and so is simple collation.
    assert len(db.command(SON([("find", "c"), ("returnKey", False), ("tailable", False),
                               ("collation", {"locale": "simple"})]))["cursor"]["firstBatch"]) == 2
    assert db.command(SON([("find", "c"), ("readConcern", {"level": "majority"})]))["ok"] == 1


def test_generic_fields_are_accepted_everywhere(db):
    generic = {"comment": "why", "maxTimeMS": 1000, "$readPreference": {"mode": "primary"},
               "apiVersion": "1"}
    db.command(SON([("insert", "c"), ("documents", [{"_id": 1}])] + list(generic.items())))
    db.command(SON([("find", "c")] + list(generic.items())))
    db.command(SON([("count", "c")] + list(generic.items())))
    db.command(SON([("drop", "c")] + list(generic.items())))
