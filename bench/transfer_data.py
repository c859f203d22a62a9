"""Writes N documents as JSON, one per line, for bench/run_transfer_bench.sh:
plain JSON values only (numbers, strings, booleans, nested objects and
arrays), so that Docket and PostgreSQL's jsonb load the same data.
Deterministic (seeded).

    bench/transfer_data.py N > data.json"""
import json
import random
import sys

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()


def main():
    n = int(sys.argv[1])
    rng = random.Random(7)
    out = sys.stdout
    for i in range(n):
        doc = {
            "_id": i,
            "name": "%s %s" % (rng.choice(WORDS).title(), rng.choice(WORDS).title()),
            "email": "user%d@example.org" % i,
            "age": rng.randint(18, 90),
            "score": round(rng.random() * 1000, 3),
            "active": rng.random() < 0.8,
            "tags": rng.sample(WORDS, rng.randint(0, 4)),
            "address": {"city": rng.choice(WORDS).title(), "zip": "%05d" % rng.randint(0, 99999),
                        "geo": [round(rng.uniform(-180, 180), 5), round(rng.uniform(-90, 90), 5)]},
            "orders": [{"sku": "SKU-%d" % rng.randint(1, 5000), "qty": rng.randint(1, 9)}
                       for _ in range(rng.randint(0, 3))],
        }
        out.write(json.dumps(doc, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
