"""The differential and metamorphic checker (tests/differential) in CI: a
fixed seed and a small budget of random cases, and every regression case in
tests/differential/regressions.json replayed. A regression of an open bug is
xfail(strict=True): it must fail until the bug is fixed, and then the case
shows up as XPASS (a failure), to be kept as a plain passing case.

Each test starts its own servers (see checks.Env) from $DOCKET_BIN."""
import io
import os
import random
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "differential"))

import checks  # noqa: E402
import run as differential  # noqa: E402
from conftest import DOCKET  # noqa: E402

SEED = 20261206
CASES = 400  # about 10 s on two busy cores

with open(os.path.join(HERE, "..", "differential", "regressions.json")) as fh:
    REGRESSIONS = checks.from_ext_json(fh.read())


def test_random_cases_agree():
    out = io.StringIO()
    res = differential.run(SEED, CASES, binary=DOCKET, per_dataset=20, restart_every=2, out=out, time_limit=50)
    print(out.getvalue())
    print("known bugs seen: %s" % res["known"])
    # under the sanitizers the servers are slower and the time limit may stop the run early
    assert res["cases"] >= 50, "the run stopped early"
    assert sum(res["checks"].values()) > 500
    assert res["checks"].get("collation", 0) > 20, "the collation relation did not run"
    assert not res["failures"], "\n\n".join(f.render() for f in res["failures"][:5])


def replay(case):
    env = checks.Env(DOCKET, use_cache="cache" in case["relations"], use_disk="disk" in case["relations"]).start()
    try:
        checker = checks.Checker(env, random.Random(0))
        checker.load(list(case["docs"]), 0)
        spec = dict(case["spec"])
        if "sort" in spec:
            spec["sort"] = [tuple(k) for k in spec["sort"]]
        fails = differential.run_case(checker, spec, set(case["relations"]))
        assert not fails, "\n\n".join(f.render() for f in fails)
        if "expect_ids" in case:
            got = checks.run_find(env.main, "idx", spec, hint="_id_")
            assert got[0] == "ok", got
            ids = [checks.bson.decode(d)["_id"] for d in got[1]]
            assert ids == case["expect_ids"], "scan order %s, expected %s" % (ids, case["expect_ids"])
    finally:
        env.close()


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c["name"], marks=[pytest.mark.xfail(
        strict=True, reason=c["xfail"],
        # the failure the bug causes, not any error of the harness
        raises=checks.ServerFailure if c.get("raises") == "ServerFailure" else AssertionError)] if c.get("xfail") else [])
    for c in REGRESSIONS])
def test_regression(case):
    replay(case)
