"""The two seeds, written as the seeds write them (mongoengine, threads), run
against `docket serve --jitter 0-5`: the racy versions must fail, the fixed
versions must pass every time. Each scenario runs RUNS times."""
import concurrent.futures
import threading

import mongoengine
import pymongo
import pytest
from mongoengine import Document, FloatField, StringField
from mongoengine.context_managers import switch_collection

RUNS = 100


@pytest.fixture(scope="module")
def seed_db(jittery_server):
    mongoengine.disconnect_all()
    mongoengine.connect(db="seeds", host=jittery_server.uri, serverSelectionTimeoutMS=5000)
    yield mongoengine.get_db()
    mongoengine.disconnect_all()


# ---- Seed 1: "Prefix" + str(count() + 1), under a lock that does not cover the save.

_lock = threading.Lock()


class MyModel(Document):
    name = StringField(primary_key=True, required=True)

    def clean(self):
        with _lock:
            cnt = MyModel.objects.count()
            self.name = "Prefix" + str(cnt + 1)


def create_ten(model):
    """The seed's own test: 10 creates from a 5-thread pool. Returns the names,
    or raises what the creates raised."""
    st = set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as executor:
        todos = {executor.submit(model.objects.create) for _ in range(10)}
        for future in concurrent.futures.as_completed(todos):
            st.add(future.result()["name"])
    return st


def test_seed1_count_plus_one_fails_under_jitter(seed_db):
    failures = 0
    for _ in range(RUNS):
        MyModel.drop_collection()
        try:
            names = create_ten(MyModel)
            if len(names) != 10:
                failures += 1
        except mongoengine.errors.NotUniqueError:
            failures += 1
    print("\n[seed 1, count()+1] failed in %d of %d runs" % (failures, RUNS))
    assert failures >= 95


def next_sequence(name):
    counters = MyFixedModel._get_db()["counters"]
    doc = counters.find_one_and_update({"_id": name}, {"$inc": {"COUNT": 1}}, upsert=True,
                                       return_document=pymongo.ReturnDocument.AFTER)
    return doc["COUNT"]


class MyFixedModel(Document):
    name = StringField(primary_key=True, required=True)

    def clean(self):
        if not self.name:
            self.name = "Prefix" + str(next_sequence("mymodel"))


def test_seed1_atomic_counter_passes_every_run(seed_db):
    for run in range(RUNS):
        MyFixedModel.drop_collection()
        seed_db["counters"].drop()
        names = create_ten(MyFixedModel)
        assert names == {"Prefix%d" % n for n in range(1, 11)}, "run %d: %s" % (run, sorted(names))


# ---- Seed 2: switch_collection on a shared class, versus one model per collection.

class BankAccount(Document):
    account_number = StringField()
    balance = FloatField()


class BaseAccount(Document):
    account_number = StringField()
    balance = FloatField()
    meta = {"abstract": True}


accounts_by_branch = {}
for branch_name in ["branch1", "branch2"]:
    accounts_by_branch[branch_name] = type(branch_name, (BaseAccount,), {"meta": {"collection": branch_name}})

BRANCHES = ["branch1", "branch2"]
THREADS = 4      # threads incrementing branch balances
INCREMENTS = 8   # per thread
LEGACY_SAVES = 8  # records legacy code saves through BankAccount meanwhile


def increment_balance_racy(branch_name, account_number, amount):
    with switch_collection(BankAccount, branch_name) as NamedAccount:
        NamedAccount.objects(account_number=account_number).update_one(inc__balance=amount)


def increment_balance_fixed(branch_name, account_number, amount):
    NamedAccount = accounts_by_branch[branch_name]
    NamedAccount.objects(account_number=account_number).update_one(inc__balance=amount)


def run_branches(increment):
    """Both branches hold account "42" at 0. THREADS threads send INCREMENTS
    increments each, alternating branches (branch1 gets 1, branch2 gets 100),
    while the legacy code path saves LEGACY_SAVES records through BankAccount
    (its own collection, bank_account). Returns (totals per branch, expected
    totals, how many legacy records landed outside bank_account)."""
    BankAccount._collection = None  # a fresh class state for every run
    BankAccount._get_collection_name = classmethod(lambda cls: "bank_account")
    db = BankAccount._get_db()
    for name in BRANCHES + ["bank_account"]:
        db[name].drop()
    for name in BRANCHES:
        accounts_by_branch[name](account_number="42", balance=0).save()
    amounts = {"branch1": 1, "branch2": 100}
    expected = {name: 0 for name in BRANCHES}
    for t in range(THREADS):
        for i in range(INCREMENTS):
            expected[BRANCHES[(t + i) % 2]] += amounts[BRANCHES[(t + i) % 2]]

    def worker(t):
        if t == THREADS:
            for i in range(LEGACY_SAVES):
                BankAccount(account_number="legacy-%d" % i, balance=0).save()
            return
        for i in range(INCREMENTS):
            branch = BRANCHES[(t + i) % 2]
            increment(branch, "42", amounts[branch])

    with concurrent.futures.ThreadPoolExecutor(max_workers=THREADS + 1) as executor:
        list(executor.map(worker, range(THREADS + 1)))
    totals = {name: sum(d["balance"] for d in db[name].find({"account_number": "42"})) for name in BRANCHES}
    legacy = {"account_number": {"$in": ["legacy-%d" % i for i in range(LEGACY_SAVES)]}}
    misdirected = sum(db[name].count_documents(legacy) for name in BRANCHES)
    return totals, expected, misdirected


def test_seed2_switch_collection_fails_under_jitter(seed_db):
    wrong_totals = 0
    misdirected_runs = 0
    failures = 0
    for _ in range(RUNS):
        totals, expected, misdirected = run_branches(increment_balance_racy)
        wrong_totals += totals != expected
        misdirected_runs += misdirected > 0
        failures += totals != expected or misdirected > 0
    print("\n[seed 2, switch_collection] failed in %d of %d runs: legacy saves written into a branch "
          "collection in %d; increments landing in the wrong branch in %d" %
          (failures, RUNS, misdirected_runs, wrong_totals))
    assert failures >= 95


def test_seed2_model_per_collection_passes_every_run(seed_db):
    for run in range(RUNS):
        totals, expected, misdirected = run_branches(increment_balance_fixed)
        assert totals == expected, "run %d" % run
        assert misdirected == 0, "run %d" % run
