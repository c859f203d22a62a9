"""DuplicateKey errors carry keyPattern and keyValue, which ODMs read to name
the field: in insert/update writeErrors and in findAndModify's error reply."""
import pymongo
import pytest


def test_insert_and_update_write_errors_name_the_key(db):
    db.c.create_index("email", unique=True)
    db.c.insert_one({"_id": 1, "email": "a@x"})
    with pytest.raises(pymongo.errors.DuplicateKeyError) as e:
        db.c.insert_one({"_id": 2, "email": "a@x"})
    assert e.value.details["keyPattern"] == {"email": 1}
    assert e.value.details["keyValue"] == {"email": "a@x"}
    with pytest.raises(pymongo.errors.DuplicateKeyError) as e:
        db.c.insert_one({"_id": 1})
    assert (e.value.details["keyPattern"], e.value.details["keyValue"]) == ({"_id": 1}, {"_id": 1})
    db.c.insert_one({"_id": 3, "email": "b@x"})
    with pytest.raises(pymongo.errors.DuplicateKeyError) as e:
        db.c.update_one({"_id": 3}, {"$set": {"email": "a@x"}})
    assert e.value.details["keyValue"] == {"email": "a@x"}


def test_find_and_modify_error_names_the_key(db):
    db.c.create_index([("a", 1), ("b", -1)], unique=True)
    db.c.insert_many([{"_id": 1, "a": 1, "b": 2}, {"_id": 2, "a": 1, "b": 3}])
    with pytest.raises(pymongo.errors.DuplicateKeyError) as e:
        db.c.find_one_and_update({"_id": 2}, {"$set": {"b": 2}})
    assert e.value.details["keyPattern"] == {"a": 1, "b": -1}
    assert e.value.details["keyValue"] == {"a": 1, "b": 2}
    assert e.value.details["code"] == 11000
