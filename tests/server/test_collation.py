"""Collations over the wire, through pymongo: what a user of MongoDB's
`collation` option sees. The per-operator semantics are in
tests/cases/collation.test (run against the engine); this file checks the
server's side: the commands take the option, indexes of a collation are
used only by queries of that collation, a case-insensitive unique index
refuses case variants (also under concurrent writers), the full form in
listCollections/listIndexes, persistence across a restart, and the errors."""
import threading

import pymongo
import pytest
from pymongo.collation import Collation
from pymongo.errors import DuplicateKeyError, OperationFailure

from conftest import DocketServer, winning_index

CI = Collation(locale="en", strength=2)
FULL_KEYS = ["locale", "caseLevel", "caseFirst", "strength", "numericOrdering", "alternate", "maxVariable",
             "normalization", "backwards", "version"]


def test_case_insensitive_unique_index(db):
    db.people.create_index("name", unique=True, collation=CI)
    db.people.insert_one({"name": "ada"})
    with pytest.raises(DuplicateKeyError) as e:
        db.people.insert_one({"name": "Ada"})
    assert e.value.code == 11000
    db.people.insert_one({"name": "adá"})  # an accent is a difference at strength 2
    assert db.people.count_documents({}) == 2
    # An update into a case variant of another document's key is refused too.
    db.people.insert_one({"name": "bob"})
    with pytest.raises(DuplicateKeyError):
        db.people.update_one({"name": "bob"}, {"$set": {"name": "ADA"}})
    assert sorted(d["name"] for d in db.people.find({}, {"_id": 0})) == ["ada", "adá", "bob"]


def test_concurrent_case_variants_into_a_unique_index_one_wins(db):
    db.users.create_index("email", unique=True, collation=CI)
    variants = ["Someone@Example.com", "someone@example.com", "SOMEONE@EXAMPLE.COM", "someone@EXAMPLE.com",
                "SomeOne@example.COM", "sOMEONE@eXAMPLE.cOM"]
    outcomes = []
    barrier = threading.Barrier(len(variants))

    def insert(email):
        barrier.wait()
        try:
            db.users.insert_one({"email": email})
            outcomes.append("ok")
        except DuplicateKeyError:
            outcomes.append("dup")

    threads = [threading.Thread(target=insert, args=(v,)) for v in variants]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("dup") == len(variants) - 1
    assert db.users.count_documents({"email": "someone@example.com"}, collation=CI) == 1


def test_the_planner_uses_an_index_only_for_its_own_collation(db):
    db.c.create_index("s", name="s_ci", collation=CI)
    db.c.create_index("s", name="s_bin")
    db.c.insert_many([{"s": v} for v in ["ada", "Ada", "ADA", "b"]])
    ci = db.c.find({"s": "ADA"}).collation(CI)
    assert winning_index(ci.explain()) == "s_ci"
    assert sorted(d["s"] for d in ci) == ["ADA", "Ada", "ada"]
    plain = db.c.find({"s": "ADA"})
    assert winning_index(plain.explain()) == "s_bin"
    assert [d["s"] for d in plain] == ["ADA"]
    # A sort under a collation is given by that collation's index only.
    sorted_ci = db.c.find({"s": {"$gte": "a"}}).sort("s", 1).collation(Collation(locale="en", strength=2))
    assert winning_index(sorted_ci.explain()) == "s_ci"
    other = db.c.find({"s": "ADA"}).collation(Collation(locale="fr"))
    assert winning_index(other.explain()) is None
    assert [d["s"] for d in other] == ["ADA"]


def test_a_hinted_index_of_another_collation_is_read_whole_and_answers_right(db):
    db.c.create_index("s", name="s_ci", collation=CI)
    db.c.insert_many([{"s": v} for v in ["ada", "Ada", "b"]])
    # Binary query through the case-insensitive index: all of it is read, the
    # filter decides.
    assert [d["s"] for d in db.c.find({"s": "Ada"}).hint("s_ci")] == ["Ada"]
    assert sorted(d["s"] for d in db.c.find({"s": "Ada"}).hint("s_ci").collation(CI)) == ["Ada", "ada"]


def test_every_command_takes_the_collation(db):
    c = db.c
    c.insert_many([{"_id": 1, "s": "ada"}, {"_id": 2, "s": "ADA"}, {"_id": 3, "s": "b"}])
    assert c.count_documents({"s": "Ada"}, collation=CI) == 2
    assert db.command("count", "c", query={"s": "Ada"}, collation=CI.document)["n"] == 2
    assert sorted(c.distinct("s", collation=CI)) in (["ada", "b"], ["ADA", "b"])
    assert [d["_id"] for d in c.aggregate([{"$match": {"s": "Ada"}}, {"$sort": {"_id": 1}}], collation=CI)] == [1, 2]
    assert c.update_many({"s": "Ada"}, {"$set": {"u": 1}}, collation=CI).modified_count == 2
    found = c.find_one_and_update({"s": "B"}, {"$set": {"f": 1}}, collation=CI, return_document=True)
    assert found == {"_id": 3, "s": "b", "f": 1}
    assert c.delete_many({"s": "ADA"}, collation=CI).deleted_count == 2
    assert c.count_documents({}) == 1
    bulk = c.bulk_write([pymongo.UpdateOne({"s": "B"}, {"$set": {"g": 1}}, collation=CI),
                         pymongo.DeleteOne({"s": "nothing"}, collation=CI)])
    assert bulk.modified_count == 1


def test_the_default_collation_of_a_collection(db, server):
    db.create_collection("d", collation=CI)
    db.d.create_index("s")  # inherits the collection's collation
    db.d.insert_many([{"s": "ada"}, {"s": "ADA"}, {"s": "b"}])
    assert db.d.count_documents({"s": "Ada"}) == 2
    assert db.d.count_documents({"s": "Ada"}, collation=Collation(locale="simple")) == 0
    assert winning_index(db.d.find({"s": "Ada"}).explain()) == "s_1"
    info = db.command("listCollections", filter={"name": "d"})["cursor"]["firstBatch"][0]
    collation = info["options"]["collation"]
    assert list(collation.keys()) == FULL_KEYS
    assert collation["locale"] == "en" and collation["strength"] == 2
    assert info["idIndex"]["collation"] == collation
    indexes = {i["name"]: i for i in db.d.list_indexes()}
    assert indexes["_id_"]["collation"] == collation
    assert indexes["s_1"]["collation"] == collation
    # An index may still be binary: {locale: "simple"} leaves its spec without one.
    db.d.create_index("s", name="s_bin", collation={"locale": "simple"})
    assert "collation" not in {i["name"]: i for i in db.d.list_indexes()}["s_bin"]
    # The _id index must keep the collection's collation.
    with pytest.raises(OperationFailure) as e:
        db.d.create_index("_id", collation={"locale": "fr"})
    assert e.value.code == 2


def test_the_full_form_reports_the_locales_defaults(db):
    db.c.create_index("s", collation={"locale": "fr_CA"})
    spec = [i for i in db.c.list_indexes() if i["name"] == "s_1"][0]["collation"]
    assert list(spec.keys()) == FULL_KEYS
    assert spec["backwards"] is True  # Canadian French
    assert spec["strength"] == 3 and spec["caseFirst"] == "off"


@pytest.mark.parametrize("collation,code", [
    ({"locale": "xx_NOWHERE"}, 2),
    ({"locale": "en-US"}, 2),
    ({"locale": ""}, 2),
    ({"strength": 2}, 4),
    ({"locale": 5}, 14),
    ({"locale": "en", "strength": 0}, 9),
    ({"locale": "en", "strength": 2.5}, 2),
    ({"locale": "en", "caseFirst": "sideways"}, 9),
    ({"locale": "en", "alternate": "x"}, 9),
    ({"locale": "en", "maxVariable": "x"}, 9),
    ({"locale": "en", "numericOrdering": "yes"}, 14),
    ({"locale": "en", "bogus": 1}, 9),
    ({"locale": "simple", "strength": 1}, 9),
    ({"locale": "en", "strength": 1, "backwards": True}, 2),
    ({"locale": "en", "strength": 1, "caseFirst": "upper"}, 2),
    ({"locale": "en", "version": "1.0"}, 161),
])
def test_bad_collations_fail_with_mongodbs_codes(db, collation, code):
    for run in (lambda: db.command("find", "c", filter={}, collation=collation),
                lambda: db.command("aggregate", "c", pipeline=[], cursor={}, collation=collation),
                lambda: db.command("createIndexes", "c", indexes=[{"key": {"s": 1}, "name": "x",
                                                                  "collation": collation}]),
                lambda: db.command("create", "fresh", collation=collation)):
        with pytest.raises(OperationFailure) as e:
            run()
        assert e.value.code == code, (collation, e.value.details)
    assert "fresh" not in db.list_collection_names()


def test_collation_must_be_a_document(db):
    with pytest.raises(OperationFailure) as e:
        db.command("find", "c", filter={}, collation="en")
    assert e.value.code == 14


def test_mongodbs_collation_version_is_accepted(db):
    db.c.create_index("s", collation={"locale": "en", "version": "57.1"})
    db.c.insert_one({"s": "A"})
    assert db.c.count_documents({"s": "a"}, collation={"locale": "en", "strength": 1, "version": "57.1"}) == 1


def test_a_views_collation_is_its_readers(db):
    db.c.insert_many([{"_id": 1, "s": "a"}, {"_id": 2, "s": "A"}, {"_id": 3, "s": "b"}])
    db.create_collection("v", viewOn="c", pipeline=[{"$match": {"s": {"$lt": "B"}}}], collation=CI)
    # The view's own pipeline and its readers' filters compare by it.
    assert sorted(d["_id"] for d in db.v.find()) == [1, 2]
    assert sorted(d["_id"] for d in db.v.find({"s": "A"})) == [1, 2]
    assert sorted(d["_id"] for d in db.v.find({"s": "A"}, collation=CI)) == [1, 2]
    assert db.v.count_documents({"s": "a"}) == 2
    assert [g["n"] for g in db.v.aggregate([{"$group": {"_id": "$s", "n": {"$sum": 1}}}])] == [2]
    for other in ({"locale": "simple"}, {"locale": "fr"}):
        with pytest.raises(OperationFailure) as e:
            list(db.v.find({}, collation=other))
        assert e.value.code == 167
    info = db.command("listCollections", filter={"name": "v"})["cursor"]["firstBatch"][0]
    assert info["type"] == "view" and info["options"]["collation"]["strength"] == 2
    assert list(info["options"]["collation"].keys()) == FULL_KEYS
    # A view on a view shares its collation.
    with pytest.raises(OperationFailure) as e:
        db.create_collection("vv", viewOn="v", pipeline=[])
    assert e.value.code == 167
    db.create_collection("vv", viewOn="v", pipeline=[], collation=CI)
    assert db.vv.count_documents({"s": "A"}) == 2
    # A simple view over the collection answers binary.
    db.create_collection("plain", viewOn="c", pipeline=[])
    assert [d["_id"] for d in db.plain.find({"s": "A"})] == [2]


def test_collations_survive_a_restart(tmp_path):
    s = DocketServer(dbpath=str(tmp_path))
    try:
        c = s.client()
        db = c.t
        db.create_collection("d", collation=CI)
        db.d.create_index("name", unique=True)
        db.d.insert_one({"name": "ada"})
        db.create_collection("v", viewOn="d", pipeline=[], collation=CI)
        c.close()
    finally:
        assert s.stop() == 0
    s = DocketServer(dbpath=str(tmp_path))
    try:
        c = s.client()
        db = c.t
        with pytest.raises(DuplicateKeyError):
            db.d.insert_one({"name": "ADA"})
        assert db.d.count_documents({"name": "Ada"}) == 1
        info = db.command("listCollections", filter={"name": "d"})["cursor"]["firstBatch"][0]
        assert info["options"]["collation"]["strength"] == 2
        assert db.v.count_documents({"name": "ADA"}) == 1  # the view kept its collation
        assert db.command("validate", "d")["valid"] is True
        c.close()
    finally:
        assert s.stop() == 0


def test_an_index_of_another_collation_still_serves_bounds_without_strings(db):
    db.c.create_index("n")  # binary
    db.c.create_index("s")  # binary
    db.c.insert_many([{"n": i, "s": "x" if i % 2 else "X"} for i in range(20)])
    ranged = db.c.find({"n": {"$gte": 5, "$lt": 8}}).collation(CI)
    assert winning_index(ranged.explain()) == "n_1"
    assert sorted(d["n"] for d in ranged) == [5, 6, 7]
    # A string operand cannot be bounded by a binary index under a collation.
    by_string = db.c.find({"s": "x"}).collation(CI)
    assert winning_index(by_string.explain()) is None
    assert len(list(by_string)) == 20
    # Nor may the binary index give a collated sort: the plan sorts.
    sorted_cur = db.c.find({"n": {"$gte": 0}}).sort([("s", 1), ("n", 1)]).collation(CI)
    plan = sorted_cur.explain()["queryPlanner"]["winningPlan"]
    assert plan["stage"] == "SORT", plan
    # Hinted, it reads its string-free bounds.
    hinted = db.c.find({"n": 3, "s": "X"}).hint("n_1").collation(CI)
    assert [d["n"] for d in hinted] == [3]
