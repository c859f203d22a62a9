"""Document validation over the wire, against MongoDB 6.0's documented
behaviour: validators of query operators and of $jsonSchema on create and
collMod, validationLevel (strict, moderate, off), validationAction (error,
warn), bypassDocumentValidation on every write command, failures as
DocumentValidationFailure (121) with errInfo {failingDocumentId, details},
listCollections' options, and a metamorphic check: a document is accepted by
a validator exactly when a find with the same filter matches it."""
import random

import pytest
from bson.int64 import Int64
from bson.son import SON
from pymongo.errors import BulkWriteError, OperationFailure, WriteError

PEOPLE_SCHEMA = {"$jsonSchema": {
    "bsonType": "object",
    "required": ["name", "age"],
    "properties": {
        "name": {"bsonType": "string", "minLength": 2, "maxLength": 10},
        "age": {"bsonType": ["int", "long"], "minimum": 0, "maximum": 150},
        "email": {"bsonType": "string", "pattern": "^[^@]+@[^@]+$"},
        "tags": {"bsonType": "array", "items": {"bsonType": "string"}, "uniqueItems": True, "maxItems": 3},
        "kind": {"enum": ["person", "robot"]},
    },
}}


def write_error(call):
    with pytest.raises((WriteError, BulkWriteError, OperationFailure)) as e:
        call()
    err = e.value
    if isinstance(err, BulkWriteError):
        return err.details["writeErrors"][0]
    return {"code": err.code, **(err.details or {})}


def test_json_schema_validator_refuses_with_err_info(db):
    db.create_collection("people", validator=PEOPLE_SCHEMA)
    db.people.insert_one({"_id": 1, "name": "ada", "age": 36, "tags": ["a", "b"], "kind": "person"})
    err = write_error(lambda: db.people.insert_one({"_id": 2, "name": "x", "age": 5}))
    assert err["code"] == 121
    assert err["errmsg"] == "Document failed validation"
    info = err["errInfo"]
    assert info["failingDocumentId"] == 2
    assert info["details"]["operatorName"] == "$jsonSchema"
    rule = info["details"]["schemaRulesNotSatisfied"][0]
    assert rule["operatorName"] == "properties"
    assert rule["propertiesNotSatisfied"][0]["propertyName"] == "name"
    assert rule["propertiesNotSatisfied"][0]["details"][0]["operatorName"] == "minLength"
    missing = write_error(lambda: db.people.insert_one({"_id": 3, "name": "bob"}))["errInfo"]["details"]
    assert missing["schemaRulesNotSatisfied"] == [
        {"operatorName": "required", "specifiedAs": {"required": ["name", "age"]}, "missingProperties": ["age"]}]
    for bad in [{"name": "bob", "age": -1}, {"name": "bob", "age": 1.5}, {"name": "bob", "age": 200},
                {"name": "bob", "age": 3, "email": "nope"}, {"name": "bob", "age": 3, "tags": ["a", "a"]},
                {"name": "bob", "age": 3, "tags": ["a", 1]}, {"name": "bob", "age": 3, "tags": ["a", "b", "c", "d"]},
                {"name": "bob", "age": 3, "kind": "cat"}, {"name": "bobbobbobbob", "age": 3}]:
        assert write_error(lambda: db.people.insert_one(bad))["code"] == 121, bad
    for good in [{"name": "bob", "age": Int64(3)}, {"name": "bob", "age": 0, "email": "a@b"},
                 {"name": "ab", "age": 150, "tags": [], "kind": "robot", "extra": {"anything": 1}}]:
        db.people.insert_one(good)
    assert db.people.count_documents({}) == 4


def test_updates_replaces_upserts_and_find_and_modify_are_checked(db):
    db.create_collection("c", validator={"qty": {"$gte": 0}})
    db.c.insert_one({"_id": 1, "qty": 5})
    assert write_error(lambda: db.c.update_one({"_id": 1}, {"$inc": {"qty": -10}}))["code"] == 121
    assert write_error(lambda: db.c.replace_one({"_id": 1}, {"qty": -1}))["code"] == 121
    assert write_error(lambda: db.c.update_one({"_id": 7}, {"$set": {"qty": -1}}, upsert=True))["code"] == 121
    assert write_error(lambda: db.c.update_many({}, [{"$set": {"qty": -1}}]))["code"] == 121
    assert write_error(lambda: db.c.find_one_and_update({"_id": 1}, {"$set": {"qty": -3}}))["code"] == 121
    assert db.c.find_one({"_id": 1}) == {"_id": 1, "qty": 5}
    assert db.c.count_documents({}) == 1
    # A delete is never checked.
    db.c.delete_one({"_id": 1})
    # bypassDocumentValidation on each write command.
    db.c.insert_one({"_id": 2, "qty": -1}, bypass_document_validation=True)
    db.c.update_one({"_id": 2}, {"$set": {"qty": -2}}, bypass_document_validation=True)
    db.command(SON([("findAndModify", "c"), ("query", {"_id": 2}), ("update", {"$set": {"qty": -4}}),
                    ("bypassDocumentValidation", True)]))
    db.command(SON([("insert", "c"), ("documents", [{"_id": 3, "qty": -9}]), ("bypassDocumentValidation", True)]))
    assert sorted(d["qty"] for d in db.c.find()) == [-9, -4]
    # $merge into a validated collection: checked, unless bypassed.
    db.src.insert_one({"_id": 20, "qty": -1})
    with pytest.raises(OperationFailure) as e:
        list(db.src.aggregate([{"$merge": {"into": "c"}}]))
    assert e.value.code == 121
    list(db.src.aggregate([{"$merge": {"into": "c"}}], bypassDocumentValidation=True))
    assert db.c.count_documents({"_id": 20}) == 1
    # $out replaces the collection and keeps its validator, which applies.
    with pytest.raises(OperationFailure) as e:
        list(db.src.aggregate([{"$out": "c"}]))
    assert e.value.code == 121
    assert db.c.count_documents({}) == 3  # unchanged
    list(db.src.aggregate([{"$out": "c"}], bypassDocumentValidation=True))
    assert [d["_id"] for d in db.c.find()] == [20]
    options = [c for c in db.list_collections() if c["name"] == "c"][0]["options"]
    assert options["validator"] == {"qty": {"$gte": 0}}


def test_levels_and_actions(db):
    db.create_collection("c")
    db.c.insert_many([{"_id": 1, "qty": -5}, {"_id": 2, "qty": 5}])
    db.command(SON([("collMod", "c"), ("validator", {"qty": {"$gte": 0}}), ("validationLevel", "moderate")]))
    # moderate: a document that already fails may be updated; a valid one must stay valid.
    db.c.update_one({"_id": 1}, {"$set": {"note": "still bad"}})
    assert write_error(lambda: db.c.update_one({"_id": 2}, {"$set": {"qty": -1}}))["code"] == 121
    assert write_error(lambda: db.c.insert_one({"_id": 3, "qty": -1}))["code"] == 121
    db.command(SON([("collMod", "c"), ("validationLevel", "strict")]))
    assert write_error(lambda: db.c.update_one({"_id": 1}, {"$set": {"note": "x"}}))["code"] == 121
    db.command(SON([("collMod", "c"), ("validationLevel", "off")]))
    db.c.insert_one({"_id": 4, "qty": -1})
    db.command(SON([("collMod", "c"), ("validationLevel", "strict"), ("validationAction", "warn")]))
    db.c.insert_one({"_id": 5, "qty": -1})  # proceeds, with a warning in the log
    log = db.client.admin.command("getLog", "global")["log"]
    assert any('"id":20294' in line and "failingDocumentId" in line for line in log)
    options = [c for c in db.list_collections() if c["name"] == "c"][0]["options"]
    assert options == {"validator": {"qty": {"$gte": 0}}, "validationLevel": "strict", "validationAction": "warn"}
    assert db.c.count_documents({}) == 4


def test_errors(db):
    code = lambda cmd: pytest.raises(OperationFailure, db.command, cmd).value.code
    assert code(SON([("create", "a"), ("validationLevel", "sometimes")])) == 2
    assert code(SON([("create", "a"), ("validationAction", "shout")])) == 2
    assert code(SON([("create", "a"), ("validator", {"$jsonSchema": {"bsonType": "nope"}})])) == 2
    assert code(SON([("create", "a"), ("validator", {"$jsonSchema": {"type": "integer"}})])) == 9
    assert code(SON([("create", "a"), ("validator", {"$jsonSchema": {"unknownKeyword": 1}})])) == 9
    assert code(SON([("create", "a"), ("validator", {"$jsonSchema": {"minimum": "x"}})])) == 14
    assert code(SON([("create", "a"), ("validator", {"$jsonSchema": {"type": "string", "bsonType": "string"}})])) == 9
    assert code(SON([("create", "a"), ("validator", {"$jsonSchema": {"required": []}})])) == 9
    assert code(SON([("create", "a"), ("validator", {"a": {"$bogus": 1}})])) == 2
    assert code(SON([("create", "a"), ("validator", {"$where": "true"})])) == 224
    assert code(SON([("collMod", "missing"), ("validator", {"a": 1})])) == 26
    assert "a" not in db.list_collection_names()
    db.create_collection("base")
    db.create_collection("v", viewOn="base")
    assert code(SON([("collMod", "v"), ("validator", {"a": 1})])) == 72


def test_json_schema_in_a_find_filter(db):
    db.c.insert_many([{"_id": 1, "a": "x"}, {"_id": 2, "a": 5}, {"_id": 3}])
    found = db.c.find({"$jsonSchema": {"properties": {"a": {"bsonType": "string"}}}})
    assert [d["_id"] for d in found] == [1, 3]  # no `a` satisfies properties
    found = db.c.find({"$jsonSchema": {"required": ["a"]}, "_id": {"$gt": 1}})
    assert [d["_id"] for d in found] == [2]
    assert db.c.count_documents({"$nor": [{"$jsonSchema": {"required": ["a"]}}]}) == 1


def random_value(rng, depth=0):
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return rng.randrange(-5, 200)
    if kind == 1:
        return rng.choice(["", "a", "ab", "person", "robot", "x@y", "toolongforthat"])
    if kind == 2:
        return rng.random() * 10
    if kind == 3:
        return None
    if kind == 4:
        return rng.choice([True, False])
    if kind == 5:
        return Int64(rng.randrange(-2, 3))
    if kind == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {k: random_value(rng, depth + 1) for k in rng.sample(["name", "age", "x"], rng.randrange(3))}


def test_a_validator_accepts_exactly_what_a_find_with_it_matches(db):
    """Metamorphic: insert into the validated collection succeeds iff the same
    document, stored unvalidated, is matched by find(validator)."""
    validators = [
        PEOPLE_SCHEMA,
        # _id is a property like any other (MongoDB's documented pitfall).
        {"$jsonSchema": {"properties": {"_id": {}, "name": {"bsonType": "string"}, "age": {}},
                         "additionalProperties": False}},
        {"$jsonSchema": {"anyOf": [{"required": ["name"]}, {"required": ["age"]}], "not": {"required": ["x"]}}},
        {"$jsonSchema": {"properties": {"age": {"oneOf": [{"minimum": 10}, {"bsonType": "int"}]}}}},
        {"$jsonSchema": {"dependencies": {"name": ["age"], "age": {"properties": {"x": {"type": "array"}}}}}},
        {"age": {"$gte": 0}, "$or": [{"name": {"$exists": True}}, {"kind": "robot"}]},
    ]
    rng = random.Random(20261207)
    for n, validator in enumerate(validators):
        db.create_collection("v%d" % n, validator=validator)
        staging = db["s%d" % n]
        outcomes = set()
        for i in range(150):
            # Half start from a document the first validators accept, so that
            # both outcomes occur for each.
            doc = {"_id": i, "name": "bob", "age": 30} if rng.random() < 0.5 else {"_id": i}
            for field in rng.sample(["name", "age", "email", "tags", "kind", "x"], rng.randrange(3)):
                doc[field] = random_value(rng)
            staging.insert_one(doc)
            matched = staging.count_documents({"$and": [{"_id": i}, validator]}) == 1
            try:
                db["v%d" % n].insert_one(doc)
                accepted = True
            except WriteError as e:
                assert e.code == 121
                accepted = False
            assert accepted == matched, (validator, doc)
            outcomes.add(accepted)
        assert outcomes == {True, False}, validator  # both sides of each validator were tried
