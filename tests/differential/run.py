#!/usr/bin/python3
"""Differential and metamorphic checker of Docket's queries.

    tests/differential/run.py --seed 7 --cases 300        # a few hundred cases
    tests/differential/run.py --long                      # 20,000 cases
    DOCKET_BIN=/tmp/docket tests/differential/run.py      # another binary

Starts three `docket serve` processes (see checks.py), generates random
datasets and cases (generate.py) and runs every relation on each case. Each
disagreement is printed with the seed, the case number, the documents, the
operation and both answers, then minimized (fewer documents, a smaller
filter) and printed again. Exit status 1 on any disagreement, crash or hang.

Case N of seed S is the same whatever else runs: every dataset and every
case has its own random generator, derived from (S, N). `--only-case N`
runs that case again, after the cases before it on the same dataset.
"""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bson  # noqa: E402
from bson.son import SON  # noqa: E402

import checks  # noqa: E402
import generate  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.environ.get("DOCKET_BIN", os.path.join(HERE, "../../build/debug/docket"))


def rng(seed, *parts):
    return random.Random(":".join(str(p) for p in (seed,) + parts))


def dataset_of(seed, k):
    r = rng(seed, "dataset", k)
    return generate.documents(r)


def case_of(seed, n, docs):
    return generate.case(rng(seed, "case", n), generate.ValuePool(docs), docs)


def run_case(checker, c, relations=None):
    if c["kind"] == "find":
        return checker.check_find(c, relations)
    if c["kind"] == "aggregate":
        return checker.check_aggregate(c, relations)
    return checker.check_update(c, relations)


# ---------------------------------------------------------------- minimizing

def simpler_filters(f):
    """Smaller filters to try in place of f."""
    if not isinstance(f, dict):
        return
    keys = list(f.keys())
    if len(keys) > 1:
        for k in keys:
            yield SON([(k, f[k])])
    for k in keys:
        v = f[k]
        if k in ("$and", "$or", "$nor") and isinstance(v, list):
            for child in v:
                yield child
            if len(v) > 1:
                for i in range(len(v)):
                    g = SON(f)
                    g[k] = v[:i] + v[i + 1:]
                    yield g
            for i, child in enumerate(v):
                for sub in simpler_filters(child):
                    g = SON(f)
                    g[k] = v[:i] + [sub] + v[i + 1:]
                    yield g
        elif isinstance(v, dict) and len(v) > 1 and all(str(x).startswith("$") for x in v):
            for op in v:
                g = SON(f)
                g[k] = SON([(op, v[op])])
                yield g
    if f:
        yield {}


class Minimizer:
    """Delta debugging over the documents, then simpler operations, while the
    same disagreement (relation and what) shows. Runs on the same servers,
    reloading the collections each time; a budget bounds the attempts."""

    def __init__(self, checker, budget=150):
        self.checker, self.budget = checker, budget

    def fails(self, docs, spec, failure):
        if self.budget <= 0:
            return None
        self.budget -= 1
        ch = self.checker
        ch.load(docs, 10 ** 6 + self.budget)
        saved = ch.replay
        ch.replay = []
        try:
            got = run_case(ch, spec, {failure.relation})
        finally:
            ch.replay = saved
        for g in got:
            if (g.relation, g.what) == (failure.relation, failure.what.replace("after the update, ", "")):
                return g
        return None

    def minimize(self, docs, spec, failure):
        found = self.fails(docs, spec, failure)
        if found is None:
            return None
        # documents: remove chunks, then single documents
        n = 2
        while len(docs) >= 2:
            chunk = max(1, len(docs) // n)
            reduced = False
            for i in range(0, len(docs), chunk):
                trial = docs[:i] + docs[i + chunk:]
                g = self.fails(trial, spec, failure) if trial else None
                if g is not None:
                    docs, found, reduced = trial, g, True
                    n = max(n - 1, 2)
                    break
            if not reduced:
                if chunk == 1:
                    break
                n = min(len(docs), n * 2)
            if self.budget <= 0:
                break
        # the operation
        if spec["kind"] == "find":
            for drop in (["projection", "agg_projection"], ["skip"], ["limit"], ["sort", "skip", "limit"],
                         ["collation"]):
                if any(k in spec for k in drop):
                    trial = {k: v for k, v in spec.items() if k not in drop}
                    g = self.fails(docs, trial, failure)
                    if g is not None:
                        spec, found = trial, g
            changed = True
            while changed and self.budget > 0:
                changed = False
                for f in simpler_filters(spec["filter"]):
                    trial = dict(spec, filter=f)
                    g = self.fails(docs, trial, failure)
                    if g is not None:
                        spec, found, changed = trial, g, True
                        break
        elif spec["kind"] == "aggregate":
            if "collation" in spec:
                trial = {k: v for k, v in spec.items() if k != "collation"}
                g = self.fails(docs, trial, failure)
                if g is not None:
                    spec, found = trial, g
            p = spec["pipeline"]
            i = 0
            while i < len(p) and self.budget > 0:
                trial_p = p[:i] + p[i + 1:]
                trial = dict(spec, pipeline=trial_p, ordered=spec["ordered"] or True)
                trial["ordered"] = spec["ordered"] and any("$sort" in s or "$count" in s for s in trial_p)
                g = self.fails(docs, trial, failure) if trial_p else None
                if g is not None:
                    spec, found, p = trial, g, trial_p
                else:
                    i += 1
        elif spec["kind"] == "update" and isinstance(spec["filter"], dict) and "$and" in spec["filter"]:
            if "collation" in spec:
                trial = {k: v for k, v in spec.items() if k != "collation"}
                g = self.fails(docs, trial, failure)
                if g is not None:
                    spec, found = trial, g
            # the random part of the filter is the first conjunct; the guards follow
            conj = spec["filter"]["$and"]
            if conj and conj[0] != {}:
                trial = dict(spec, filter={"$and": [{}] + conj[1:]})
                g = self.fails(docs, trial, failure)
                if g is not None:
                    spec, found = trial, g
        return {"docs": docs, "spec": spec, "a_label": found.a_label, "a": found.a, "b_label": found.b_label,
                "b": found.b}


# ---------------------------------------------------------------- the run

def to_record(f):
    c = f.context
    rec = {"relation": f.relation, "what": f.what, "seed": c.get("seed"), "case": c.get("case"),
           "a_label": f.a_label, "a": checks.show_answer(f.a), "b_label": f.b_label, "b": checks.show_answer(f.b)}
    if "docs" in c:
        rec["docs"] = checks.ext_json(c["docs"])
    if "spec" in c:
        rec["spec"] = checks.ext_json(c["spec"])
    m = c.get("minimized")
    if m:
        rec["minimized"] = {"docs": checks.ext_json(m["docs"]), "spec": checks.ext_json(m["spec"]),
                            "a": checks.show_answer(m["a"]), "b": checks.show_answer(m["b"])}
    return rec


def run(seed, cases, binary=DEFAULT_BIN, per_dataset=25, restart_every=3, use_cache=True, use_disk=True,
        minimize=True, all_hints=True, out=sys.stdout, only_case=None, max_printed=30, time_limit=None,
        strict=False):
    """Returns a summary dict: cases, checks, failures (records), duration."""
    t0 = time.time()
    env = checks.Env(binary, use_cache=use_cache, use_disk=use_disk).start()
    checker = checks.Checker(env, random.Random(seed), all_hints=all_hints)
    failures, signatures, known = [], {}, {}
    printed = 0
    ran = 0
    dataset_loaded = None
    # one case runs after the cases before it in its dataset (updates change the data)
    numbers = range(only_case - only_case % per_dataset, only_case + 1) if only_case is not None else range(cases)
    try:
        for n in numbers:
            if time_limit and time.time() - t0 > time_limit:
                print("time limit reached after %d cases" % ran, file=out)
                break
            k = n // per_dataset
            found = []
            c = None
            try:
                if dataset_loaded != k:
                    if use_disk and dataset_loaded is not None and k % restart_every == 0:
                        found += checker.restart_disk()
                    docs = dataset_of(seed, k)
                    found += checker.load(docs, k)
                    checker.r = rng(seed, "model", k)
                    found += checker.check_model(docs)
                    dataset_loaded = k
                c = case_of(seed, n, docs)
                checker.r = rng(seed, "checker", n)
                found += run_case(checker, c)
            except checks.ServerFailure as e:
                found.append(checks.Failure("crash", "server %s: %s" % (e.server, e.what), "expected",
                                            ("ok", []), "got", ("error", None, e.what), spec=c))
                env.restart_all()
                checker.replay = []
                dataset_loaded = None
            ran += 1
            for f in found:
                f.context.setdefault("seed", seed)
                f.context.setdefault("case", n)
                f.context.setdefault("dataset", k)
                if f.context.get("after_update") is not None:
                    f.context["docs"] = [bson.decode(d, checks.SON_OPTS) for d in f.context["docs_after"][1]]
                elif f.context.get("before") is not None and f.context["before"][0] == "ok":
                    f.context["docs"] = [bson.decode(d, checks.SON_OPTS) for d in f.context["before"][1]]
                else:
                    f.context.setdefault("docs", docs)
                kb = checks.known_bug(f)
                if kb and not strict:
                    known[kb] = known.get(kb, 0) + 1
                    if known[kb] == 1:
                        print("known bug %s (first occurrence shown, the rest counted):\n%s\n" % (kb, f.render()),
                              file=out)
                    continue
                sig = f.signature()
                signatures[sig] = signatures.get(sig, 0) + 1
                if minimize and signatures[sig] == 1 and f.relation not in ("crash",) and \
                        not f.what.startswith("after a restart") and f.context.get("spec"):
                    spec = f.context.get("after_update") and {"kind": "find", **f.context["spec"]} or f.context["spec"]
                    try:
                        m = Minimizer(checker).minimize(list(f.context["docs"]), spec, f)
                        if m:
                            f.context["minimized"] = m
                    except checks.ServerFailure as e:
                        print("(minimizing crashed the server: %s)" % e, file=out)
                        env.restart_all()
                        checker.replay = []
                    dataset_loaded = None  # reload the dataset for the next case
                    checker.replay = [x for x in checker.replay]
                if printed < max_printed and signatures[sig] <= 2:
                    print(f.render(), file=out)
                    print(file=out)
                    printed += 1
                failures.append(f)
            if ran % 1000 == 0:
                print("... %d cases, %d disagreements, %.0f s" % (ran, len(failures), time.time() - t0), file=out)
                out.flush()
        if use_disk:
            failures += checker.restart_disk()
    finally:
        rcs = env.close()
    for name, rc in rcs.items():
        if rc != 0:
            failures.append(checks.Failure("crash", "server %s: SIGTERM exit status %s" % (name, rc), "expected",
                                           ("value", 0), "exit status", ("value", rc)))
    dt = time.time() - t0
    return {"seed": seed, "cases": ran, "checks": dict(checker.stats), "restarts": env.restarts,
            "failures": failures, "signatures": signatures, "known": known, "duration": dt}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    ap.add_argument("--cases", type=int, default=None, help="number of cases (default 300, 20000 with --long)")
    ap.add_argument("--long", action="store_true", help="the long mode: 20,000 cases unless --cases says")
    ap.add_argument("--per-dataset", type=int, default=25, help="cases per random dataset")
    ap.add_argument("--restart-every", type=int, default=3, help="restart the on-disk server every N datasets")
    ap.add_argument("--no-cache", action="store_true", help="no row-cache server")
    ap.add_argument("--no-disk", action="store_true", help="no on-disk server (no restarts)")
    ap.add_argument("--no-minimize", action="store_true")
    ap.add_argument("--only-case", type=int, default=None, help="run this case number alone")
    ap.add_argument("--report", help="write the disagreements as JSON to this file")
    ap.add_argument("--docket", default=DEFAULT_BIN, help="the docket binary (default $DOCKET_BIN or build/debug)")
    ap.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--inject", choices=["index", "cache", "disk", "txn", "aggregate"],
                    help="self-test: drop the last document of every answer computed that way; the run must fail")
    ap.add_argument("--strict", action="store_true",
                    help="count disagreements of known bugs (checks.KNOWN_BUGS) as failures too")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else random.randrange(2 ** 32)
    checks.INJECT = a.inject
    cases = a.cases if a.cases is not None else (20000 if a.long else 300)
    print("differential: seed %d, %d cases, binary %s" % (seed, cases, a.docket), flush=True)
    res = run(seed, cases, binary=a.docket, per_dataset=a.per_dataset, restart_every=a.restart_every,
              use_cache=not a.no_cache, use_disk=not a.no_disk, minimize=not a.no_minimize,
              only_case=a.only_case, time_limit=a.time_limit, all_hints=True, strict=a.strict)
    if a.report:
        with open(a.report, "w") as fh:
            json.dump({"seed": seed, "cases": res["cases"], "duration": res["duration"],
                       "failures": [to_record(f) for f in res["failures"]]}, fh, indent=1)
    total = sum(res["checks"].values())
    print("checks by relation: %s" % ", ".join("%s %d" % kv for kv in sorted(res["checks"].items())))
    print("disagreements by kind:")
    for sig, cnt in sorted(res["signatures"].items(), key=lambda kv: -kv[1]):
        print("  %5d  [%s] %s" % (cnt, sig[0], sig[1]))
    for name, cnt in sorted(res["known"].items()):
        print("  %5d  known bug %s: %s" % (cnt, name, checks.KNOWN_BUGS[name]))
    print("seed %d: %d cases, %d comparisons, %d disk restarts, %.1f s" %
          (seed, res["cases"], total, res["restarts"], res["duration"]))
    nf = len(res["failures"])
    print("differential: %d passed, %d failed" % (total - nf, nf))
    return 1 if nf else 0


if __name__ == "__main__":
    sys.exit(main())
