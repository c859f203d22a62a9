"""maxTimeMS is enforced inside the work, as mongod enforces it: a scan that
runs past the command's deadline stops with MaxTimeMSExpired (50) — finds,
aggregations, counts, updates and deletes — and a cursor's getMores spend
what is left of the opening command's maxTimeMS. Values are checked as
mongod's parseMaxTimeMS checks them (BadValue 2). Before, maxTimeMS was
accepted and ignored.

The slow filter costs the same per document everywhere: an $expr that
builds an array of 12,000 elements or more for each document it examines
(from the document's own field, so that it cannot be computed once)."""
import time

import pymongo
import pytest

BIG = {"$size": {"$range": [0, {"$add": ["$n", 12000]}]}}  # n + 12000, built element by element
SLOW = {"$expr": {"$gt": [BIG, "$n"]}}  # true for every document
MISS = {"$expr": {"$lt": [BIG, "$n"]}}  # false for every document
N = 3000


@pytest.fixture(scope="module")
def coll(server):
    c = server.client()
    coll = c.test.max_time
    coll.drop()
    coll.insert_many([{"_id": i, "n": i} for i in range(N)])
    yield coll
    c.close()


@pytest.fixture(scope="module")
def unbounded(coll):
    """How long the slow scan takes without a limit (it finishes)."""
    start = time.monotonic()
    assert coll.count_documents(MISS) == 0
    return time.monotonic() - start


def expect_expired(run, budget_ms, unbounded_s):
    start = time.monotonic()
    with pytest.raises(pymongo.errors.ExecutionTimeout) as e:
        run()
    elapsed = time.monotonic() - start
    assert e.value.code == 50, e.value.details
    # Stopped near its deadline, long before the whole scan would end.
    assert elapsed < budget_ms / 1000 + unbounded_s / 2, (elapsed, unbounded_s)


def test_a_scan_stops_at_its_deadline(coll, unbounded):
    assert unbounded > 0.2, "the slow filter is not slow enough here to test a 20 ms limit"
    expect_expired(lambda: list(coll.find(MISS).max_time_ms(20)), 20, unbounded)
    expect_expired(lambda: list(coll.aggregate([{"$match": MISS}], maxTimeMS=20)), 20, unbounded)
    expect_expired(lambda: coll.count_documents(MISS, maxTimeMS=20), 20, unbounded)
    expect_expired(lambda: coll.database.command("distinct", coll.name, key="n", query=MISS, maxTimeMS=20),
                   20, unbounded)
    expect_expired(lambda: coll.database.command("update", coll.name, maxTimeMS=20, updates=[
        {"q": MISS, "u": {"$set": {"x": 1}}, "multi": True}]), 20, unbounded)
    expect_expired(lambda: coll.database.command("delete", coll.name, deletes=[{"q": MISS, "limit": 0}],
                                                 maxTimeMS=20), 20, unbounded)
    assert coll.count_documents({}) == N  # nothing was deleted


def test_without_a_limit_or_with_zero_the_scan_finishes(coll):
    assert coll.count_documents(SLOW, maxTimeMS=0) == N
    assert len(list(coll.find({}).max_time_ms(0))) == N
    assert len(list(coll.find({}, batch_size=10).max_time_ms(600000))) == N


def test_get_mores_spend_what_is_left_of_the_find_s_limit(coll, unbounded):
    # The first batch comes at once (document 0 matches); the next one needs
    # the whole slow scan, past what is left of the limit.
    first_and_last = {"$or": [{"_id": 0}, {"$and": [MISS, {"_id": {"$gt": 0}}]}]}
    cursor = coll.find(first_and_last, batch_size=1).max_time_ms(50)
    assert next(cursor)["_id"] == 0
    start = time.monotonic()
    with pytest.raises(pymongo.errors.ExecutionTimeout) as e:
        next(cursor)
    assert e.value.code == 50
    assert time.monotonic() - start < 0.05 + unbounded / 2
    # The expired cursor is gone.
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        coll.database.command("getMore", cursor.cursor_id or 1, collection=coll.name)
    assert e.value.code == 43


@pytest.mark.parametrize("value,code,message", [
    (-1, 2, "maxTimeMS out of range"),
    (2 ** 31, 2, "maxTimeMS out of range"),
    (1.5, 2, "maxTimeMS has non-integral value"),
    (float("nan"), 2, "maxTimeMS out of range"),
    ("x", 14, "maxTimeMS"),
])
def test_bad_values_are_refused(coll, value, code, message):
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        coll.database.command("find", coll.name, filter={}, maxTimeMS=value)
    assert e.value.code == code and message in str(e.value), e.value.details


def test_get_more_takes_no_limit_of_its_own(coll):
    reply = coll.database.command("find", coll.name, filter={}, batchSize=1)
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        coll.database.command("getMore", reply["cursor"]["id"], collection=coll.name, maxTimeMS=10)
    assert e.value.code == 2 and "non-awaitData cursor" in str(e.value)


def test_window_and_densify_stages_stop_at_their_deadline(coll):
    """$setWindowFields and $densify work on what they have read, in memory,
    after the scan: they check the deadline as they go."""
    # every document's window spans 2,000 others: 3,000 x 2,001 accumulator adds
    window = [{"$setWindowFields": {"sortBy": {"n": 1}, "output": {
        "s": {"$push": "$n", "window": {"documents": [-1000, 1000]}}}}}, {"$count": "c"}]
    start = time.monotonic()
    assert list(coll.aggregate(window)) == [{"c": N}]
    unbounded = time.monotonic() - start
    assert unbounded > 0.2, "the window is not slow enough here to test a 20 ms limit"
    expect_expired(lambda: list(coll.aggregate(window, maxTimeMS=20)), 20, unbounded)
    dense = [{"$densify": {"field": "n", "range": {"step": 0.01, "bounds": "full"}}}, {"$count": "c"}]
    start = time.monotonic()
    assert list(coll.aggregate(dense))[0]["c"] >= 299000
    unbounded = time.monotonic() - start
    expect_expired(lambda: list(coll.aggregate(dense, maxTimeMS=20)), 20, unbounded)
