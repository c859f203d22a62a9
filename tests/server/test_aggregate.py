"""The aggregation framework, pipeline updates and $expr through pymongo,
against a real `docket serve`."""
import datetime

import pytest
from bson import Decimal128, Int64
from bson.son import SON
from pymongo import ReturnDocument
from pymongo.errors import OperationFailure


@pytest.fixture
def sales(db):
    db.sales.insert_many([
        {"_id": i, "item": ["apple", "pear", "fig"][i % 3], "qty": i % 7 + 1,
         "price": Decimal128(["1.10", "0.45", "2.05"][i % 3]),
         "at": datetime.datetime(2024, 1 + i % 12, 1 + i % 28, tzinfo=datetime.timezone.utc)}
        for i in range(300)])
    return db.sales


def test_group_sort_project_like_an_application(sales):
    rows = list(sales.aggregate([
        {"$match": {"qty": {"$gte": 2}}},
        {"$group": {"_id": "$item", "units": {"$sum": "$qty"}, "orders": {"$sum": 1},
                    "revenue": {"$sum": {"$multiply": ["$price", "$qty"]}}}},
        {"$sort": {"units": -1}},
        {"$project": {"_id": 0, "item": "$_id", "units": 1, "orders": 1, "revenue": 1}},
    ]))
    units = [r["units"] for r in rows]
    assert units == sorted(units, reverse=True) and len(rows) == 3
    # Check against the same sums done here.
    expected = {}
    for i in range(300):
        qty = i % 7 + 1
        if qty < 2:
            continue
        item = ["apple", "pear", "fig"][i % 3]
        e = expected.setdefault(item, [0, 0, 0.0])
        e[0] += qty
        e[1] += 1
    for r in rows:
        assert [r["units"], r["orders"]] == expected[r["item"]][:2]
        assert isinstance(r["revenue"], Decimal128)


def test_large_results_stream_through_get_more(sales):
    cursor = sales.aggregate([{"$sort": {"_id": -1}}, {"$project": {"_id": 1}}], batchSize=7)
    ids = [d["_id"] for d in cursor]
    assert ids == list(range(299, -1, -1))


def test_dates_strings_and_arrays_in_expressions(sales):
    row = next(sales.aggregate([
        {"$match": {"_id": 13}},
        {"$project": {"month": {"$month": "$at"}, "day": {"$dateToString": {"date": "$at", "format": "%Y-%m-%d"}},
                      "upper": {"$toUpper": "$item"}, "parts": {"$split": ["a-b-c", "-"]},
                      "evens": {"$filter": {"input": {"$range": [0, 6]}, "cond": {"$eq": [{"$mod": ["$$this", 2]}, 0]}}}}},
    ]))
    assert row == {"_id": 13, "month": 2, "day": "2024-02-14", "upper": "PEAR", "parts": ["a", "b", "c"],
                   "evens": [0, 2, 4]}


def test_lookup_unwind_and_facet(db):
    db.authors.insert_many([{"_id": 1, "name": "Ada"}, {"_id": 2, "name": "Alan"}])
    db.books.insert_many([{"_id": 10, "author": 1, "title": "Notes"}, {"_id": 11, "author": 1, "title": "Sketch"},
                          {"_id": 12, "author": 2, "title": "Computing"}])
    db.books.create_index("author")
    rows = list(db.authors.aggregate([
        {"$lookup": {"from": "books", "localField": "_id", "foreignField": "author", "as": "books"}},
        {"$unwind": "$books"},
        {"$facet": {"count": [{"$count": "n"}], "titles": [{"$sort": {"books.title": 1}}, {"$project": {"_id": 0, "t": "$books.title"}}]}},
    ]))
    assert rows == [{"count": [{"n": 3}], "titles": [{"t": "Computing"}, {"t": "Notes"}, {"t": "Sketch"}]}]


def test_out_and_merge_write_collections(db, sales):
    list(sales.aggregate([{"$group": {"_id": "$item", "n": {"$sum": 1}}}, {"$out": "per_item"}]))
    assert sorted((d["_id"], d["n"]) for d in db.per_item.find()) == [("apple", 100), ("fig", 100), ("pear", 100)]
    list(sales.aggregate([{"$match": {"item": "fig"}}, {"$group": {"_id": "$item", "late": {"$max": "$at"}}},
                          {"$merge": {"into": "per_item", "whenMatched": "merge"}}]))
    fig = db.per_item.find_one({"_id": "fig"})
    assert fig["n"] == 100 and fig["late"].year == 2024


def test_explain_of_an_aggregate_shows_the_index(sales):
    sales.create_index("qty")
    plan = sales.database.command("aggregate", "sales", pipeline=[{"$match": {"qty": 3}}, {"$group": {"_id": None}}],
                                  explain=True)
    cursor_stage = plan["stages"][0]["$cursor"]
    assert cursor_stage["queryPlanner"]["winningPlan"]["inputStage"]["stage"] == "IXSCAN"
    assert list(plan["stages"][1]) == ["$group"]


def test_aggregate_errors_have_mongodb_codes(sales):
    for pipeline, code in [([{"$bogus": {}}], 40324), ([{"$group": {"n": {"$sum": 1}}}], 15955),
                           ([{"$project": {"x": {"$divide": [1, 0]}}}], 16608),
                           ([{"$project": {"x": {"$nope": 1}}}], 168), ([{"$limit": -1}], 15958)]:
        with pytest.raises(OperationFailure) as e:
            list(sales.aggregate(pipeline))
        assert e.value.code == code, pipeline
    # Within the budget, allowDiskUse=False changes nothing (the budget is tested in C++).
    assert len(list(sales.aggregate([{"$sort": {"item": 1, "qty": 1}}], allowDiskUse=False, batchSize=1))) == 300


def test_count_documents_and_distinct_go_through_the_framework(sales):
    assert sales.count_documents({"item": "apple", "qty": {"$gt": 3}}) == sum(
        1 for i in range(300) if i % 3 == 0 and i % 7 + 1 > 3)
    assert sales.count_documents({}, skip=250, limit=100) == 50
    assert sorted(sales.distinct("item")) == ["apple", "fig", "pear"]


def test_expr_and_computed_projection_in_find(sales):
    got = list(sales.find({"$expr": {"$eq": [{"$mod": ["$_id", 100]}, "$qty"]}}, {"double": {"$multiply": ["$qty", 2]}}))
    expected = [i for i in range(300) if i % 100 == i % 7 + 1]
    assert [d["_id"] for d in got] == expected
    assert all(d["double"] == 2 * (d["_id"] % 7 + 1) and set(d) == {"_id", "double"} for d in got)


def test_pipeline_updates(db):
    db.c.insert_many([{"_id": 1, "a": 2, "b": 3}, {"_id": 2, "a": 10, "b": 1}])
    r = db.c.update_many({}, [{"$set": {"total": {"$add": ["$a", "$b"]}}}, {"$unset": "b"}])
    assert r.matched_count == 2 and r.modified_count == 2
    assert list(db.c.find()) == [{"_id": 1, "a": 2, "total": 5}, {"_id": 2, "a": 10, "total": 11}]
    after = db.c.find_one_and_update({"_id": 1}, [{"$set": {"a": {"$multiply": ["$a", "$total"]}}}],
                                     return_document=ReturnDocument.AFTER)
    assert after == {"_id": 1, "a": 10, "total": 5}
    # `let` as the update command carries it (this pymongo predates the keyword).
    db.command(SON([("update", "c"), ("updates", [{"q": {"_id": 2}, "u": [{"$set": {"tag": "$$t"}}]}]),
                    ("let", {"t": "v"})]))
    assert db.c.find_one({"_id": 2})["tag"] == "v"
    with pytest.raises(OperationFailure) as e:
        db.c.update_one({"_id": 2}, [{"$match": {}}])
    assert e.value.code == 72


def test_collectionless_documents(client):
    rows = list(client.test.aggregate([{"$documents": [{"x": 1}, {"x": 2}]}, {"$group": {"_id": None, "s": {"$sum": "$x"}}}]))
    assert rows == [{"_id": None, "s": 3}]


def test_sum_types_follow_mongodb(db):
    db.c.insert_many([{"v": 1}, {"v": Int64(2)}, {"v": 2.5}])
    row = next(db.c.aggregate([{"$group": {"_id": None, "ints": {"$sum": {"$toInt": "$v"}}, "all": {"$sum": "$v"}}}]))
    assert row["ints"] == 5 and isinstance(row["ints"], int)
    assert row["all"] == 5.5
