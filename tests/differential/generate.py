"""Random documents and random queries for the differential checker.

Everything here is a pure function of a `random.Random`: the same seed gives
the same documents, filters, projections, sorts, updates and pipelines, so a
failure printed with its seed can be run again.

The generator keeps a small vocabulary of field names so that filters hit
documents, and draws values from a pool that holds every BSON type the
server must handle (NaN, -0.0, infinities, Decimal128 NaN and -0, int64 at
its limits, empty and non-ASCII strings, regexes, timestamps, binaries,
minKey/maxKey, nested documents, arrays of arrays, empty arrays). Numbers that
are equal across types (3, NumberLong(3), 3.0, NumberDecimal("3.0")) are drawn
on purpose: equality, ranges and index keys must treat them as one value.

Collations: a quarter of the finds, pipelines and updates carry a `collation`
(COLLATIONS), and some indexes have their own. The strings are chosen so that
collations tell them apart differently from binary comparison: case variants
("ab", "AB", "Ab"), accents ("e", "é", "E", "É", and "e" + combining acute,
canonically equal to "é"), punctuation ("a-b", equal to "ab" when alternate is
shifted), digits ("2", "02", "10": numericOrdering), "ß" and "ss" (equal at
strength 1 and 2). String operands of filters are often a variant of a stored
string (another case, accent or a hyphen), so that collated queries match what
binary ones do not.

Fields of a document (any may be missing):
  a    anything: scalars of every type, arrays, arrays of arrays, documents
  b    numbers of mixed types (sometimes null or a string), never an array
  c    strings, sometimes an array of strings or another type
  n    a document {x, y}, sometimes an array of documents or a scalar
  arr  an array of documents {x, y}, sometimes empty, a scalar or missing
  t    an array of scalars (tags), sometimes nested arrays
  u    distinct in every document (the unique index), of varying types
  s    present in about half of the documents (the sparse index)
  p    anything (the partial index, whose filter is on b)
  m    scratch field for updates
b is never an array because two compound indexes pair it with array fields
(`{c: 1, b: -1}`, `{t: 1, b: 1}`): MongoDB refuses parallel arrays.
"""
import copy
import datetime

from bson import Decimal128, Int64, ObjectId, Regex, Timestamp
from bson.binary import Binary
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.son import SON

# ---------------------------------------------------------------- values

DOUBLES = [0.0, -0.0, 1.0, 1.5, -2.5, 3.0, 5.0, 7.25, 1e308, -1e308, 5e-324, 2.0 ** 53, 2.0 ** 53 + 2,
           2.0 ** 63, float("nan"), float("inf"), float("-inf"), 0.1]
INT32S = [0, 1, -1, 2, 3, 5, 7, 10, 2 ** 31 - 1, -2 ** 31]
INT64S = [Int64(0), Int64(3), Int64(5), Int64(-7), Int64(2 ** 53 + 1), Int64(2 ** 63 - 1), Int64(-2 ** 63),
          Int64(2 ** 31)]
DECIMALS = [Decimal128(s) for s in ["3", "3.0", "5.00", "1.5", "0.1", "-0", "0", "NaN", "-NaN", "Infinity",
                                    "-Infinity", "9007199254740993", "1E+400", "-2.5", "7.250"]]
STRINGS = ["", "a", "abc", "ABC", "b", "ab", "x", "é", "e\u0301", "日本", "😀", "a.b", "$x", "a\u0000b", "10", "null",
           "AB", "Ab", "aB", "e", "E", "É", "a-b", "2", "02", "ß", "ss", "B", "Abc"]
# Strings for the fields that filters and sorts use most (a, c, t): the ones
# that collations compare unlike binary comparison.
COLLATED_STRINGS = ["ab", "AB", "Ab", "aB", "a-b", "a", "A", "abc", "ABC", "Abc", "b", "B", "e", "E", "é", "É",
                    "e\u0301", "2", "02", "10", "1", "ß", "ss", "SS", "x", "", "a b"]

# ---------------------------------------------------------------- collations

EN2 = SON([("locale", "en"), ("strength", 2)])  # case-insensitive
FR_UPPER = SON([("locale", "fr"), ("caseFirst", "upper")])
EN_NUM = SON([("locale", "en"), ("numericOrdering", True)])
# What operations run under: the collations of the indexes (so that the
# planner may use them), the simple one named explicitly, and others that no
# index has (a hinted index of another collation is read whole).
COLLATIONS = [EN2, FR_UPPER, EN_NUM, SON([("locale", "simple")]), SON([("locale", "en"), ("strength", 1)]),
              SON([("locale", "en"), ("alternate", "shifted")]), SON([("locale", "en")]),
              SON([("locale", "de"), ("strength", 2), ("caseLevel", True)])]


def default_collation(dataset):
    """The default collation of the collection `dflt` for a dataset: each
    non-simple collation in turn."""
    choices = [c for c in COLLATIONS if not is_simple(c)]
    return copy.deepcopy(choices[dataset % len(choices)])


def collation(r):
    return copy.deepcopy(r.choice(COLLATIONS))


def maybe_collation(r, spec, p=0.25, pool=None):
    """Gives `spec` a random collation with probability p; and then, given a
    pool, often a filter on strings (spec["filter"], or the first $match of
    spec["pipeline"]) in place of the random one or and-ed to it, so that the
    collation matters."""
    if r.random() >= p:
        return spec
    spec["collation"] = collation(r)
    if pool is None:
        return spec
    if spec.get("pipeline") is not None:
        if not spec["pipeline"] or "$match" not in spec["pipeline"][0]:
            return spec
        old = spec["pipeline"][0]["$match"]
    else:
        old = spec["filter"]
    k = r.random()
    if k < 0.45:
        new = string_filter(r, pool)
    elif k < 0.7:
        new = {"$and": [old, string_leaf(r, pool)]}
    else:
        return spec
    if spec.get("pipeline") is not None:
        spec["pipeline"][0] = {"$match": new}
    else:
        spec["filter"] = new
    return spec


def string_sort(r):
    """A sort on the fields that hold strings most, made total by _id."""
    keys = [(p, r.choice([1, -1])) for p in r.sample(["a", "c", "t", "n.x"], r.choice([1, 1, 2]))]
    return keys + [("_id", r.choice([1, -1]))]


def is_simple(coll):
    return coll is None or coll == {} or coll.get("locale") == "simple"


ACCENTS = {"e": "é", "é": "e", "E": "É", "É": "E", "a": "à", "à": "a", "o": "ô", "ô": "o"}


def string_variant(r, s):
    """A string that some collation holds equal to s (or near it): another
    case, an accent added or removed, a hyphen, a leading zero."""
    if not s:
        return s
    k = r.random()
    if k < 0.45:
        return r.choice([s.upper(), s.lower(), s.swapcase(), s[:1].upper() + s[1:]])
    if k < 0.65:
        i = r.randrange(len(s))
        return s[:i] + ACCENTS.get(s[i], s[i]) + s[i + 1:]
    if k < 0.8:
        i = r.randint(1, len(s)) if len(s) > 1 else 1
        return s[:i] + r.choice(["-", " ", "."]) + s[i:]
    if k < 0.9 and s.isdigit():
        return "0" + s
    return s.replace("ss", "ß") if "ss" in s else s.replace("ß", "ss")


def deep_variant(r, v, depth=0):
    """v with some of the strings inside its documents and arrays replaced
    by variants (a collation compares strings in embedded values too)."""
    if isinstance(v, str):
        return string_variant(r, v) if r.random() < 0.5 else v
    if depth > 3:
        return v
    if isinstance(v, dict):
        return SON((k, deep_variant(r, x, depth + 1)) for k, x in v.items())
    if isinstance(v, list):
        return [deep_variant(r, x, depth + 1) for x in v]
    return v


def collated_string(r):
    s = r.choice(COLLATED_STRINGS)
    return string_variant(r, s) if r.random() < 0.2 else s
OIDS = [ObjectId("000000000000000000000000"), ObjectId("5f0000000000000000000001"),
        ObjectId("ffffffffffffffffffffffff")]
DATES = [datetime.datetime(1970, 1, 1), datetime.datetime(1969, 12, 31, 23, 59, 59),
         datetime.datetime(2024, 2, 29, 12, 0, 0, 123000), datetime.datetime(1, 1, 1), datetime.datetime(9999, 12, 31)]
REGEXES = [Regex("^a", ""), Regex("B", "i"), Regex("b$", ""), Regex("é", ""), Regex(".", "s")]
TIMESTAMPS = [Timestamp(0, 0), Timestamp(1, 1), Timestamp(1, 2), Timestamp(2 ** 31, 5), Timestamp(4294967295, 1)]
BINARIES = [Binary(b"", 0), Binary(b"\x00\x01", 0), Binary(b"\x01", 0), Binary(b"\x00" * 16, 4),
            Binary(b"ab", 128), Binary(b"\x00\x01", 5)]

SCALAR_KINDS = ["double", "int", "long", "decimal", "string", "objectId", "bool", "date", "null", "regex",
                "timestamp", "binData", "minKey", "maxKey"]


def scalar(r, kind=None):
    kind = kind or r.choice(SCALAR_KINDS)
    if kind == "double":
        return r.choice(DOUBLES) if r.random() < 0.7 else float(r.randint(-10, 10)) + r.choice([0, 0.5])
    if kind == "int":
        return r.choice(INT32S) if r.random() < 0.6 else r.randint(-10, 10)
    if kind == "long":
        return r.choice(INT64S) if r.random() < 0.6 else Int64(r.randint(-10, 10))
    if kind == "decimal":
        return r.choice(DECIMALS) if r.random() < 0.7 else Decimal128(str(r.randint(-10, 10)))
    if kind == "string":
        return r.choice(STRINGS)
    if kind == "objectId":
        return r.choice(OIDS)
    if kind == "bool":
        return r.random() < 0.5
    if kind == "date":
        return r.choice(DATES)
    if kind == "null":
        return None
    if kind == "regex":
        return r.choice(REGEXES)
    if kind == "timestamp":
        return r.choice(TIMESTAMPS)
    if kind == "binData":
        return r.choice(BINARIES)
    if kind == "minKey":
        return MinKey()
    if kind == "maxKey":
        return MaxKey()
    raise ValueError(kind)


def number(r):
    """A number of any of the four numeric types, small values favoured so
    that values of different types are equal often."""
    k = r.random()
    v = r.choice([0, 1, 2, 3, 5, 7, -1, -3])
    if k < 0.25:
        return v
    if k < 0.45:
        return Int64(v)
    if k < 0.7:
        return float(v) if r.random() < 0.8 else r.choice(DOUBLES)
    if k < 0.85:
        return Decimal128(str(v)) if r.random() < 0.7 else r.choice(DECIMALS)
    return scalar(r, r.choice(["int", "long", "double", "decimal"]))


def value(r, depth=0):
    """Any value: scalar (most often), array or document."""
    k = r.random()
    if depth >= 2 or k < 0.7:
        return number(r) if r.random() < 0.35 else scalar(r)
    if k < 0.88:
        return array(r, depth + 1)
    return subdoc(r, depth + 1)


def array(r, depth=0):
    n = r.choice([0, 1, 2, 2, 3, 4])
    out = []
    for _ in range(n):
        k = r.random()
        if depth < 2 and k < 0.1:
            out.append(array(r, depth + 1))
        elif depth < 2 and k < 0.18:
            out.append(subdoc(r, depth + 1))
        else:
            out.append(number(r) if r.random() < 0.5 else scalar(r))
    return out


def string_array(r):
    """Tags: strings of COLLATED_STRINGS, sometimes with a number among them."""
    out = [collated_string(r) for _ in range(r.choice([0, 1, 2, 2, 3]))]
    if out and r.random() < 0.2:
        out.insert(r.randrange(len(out) + 1), number(r))
    return out


def subdoc(r, depth=0):
    d = SON()
    for f in r.sample(["x", "y", "z"], r.randint(0, 3)):
        d[f] = value(r, depth + 1) if r.random() < 0.6 else number(r)
    return d


def xy_doc(r):
    d = SON()
    if r.random() < 0.85:
        k = r.random()
        d["x"] = number(r) if k < 0.5 else collated_string(r) if k < 0.65 else value(r, 2)
    if r.random() < 0.6:
        d["y"] = value(r, 1)
    return d


# ---------------------------------------------------------------- documents

def doc_id(r, i, mixed):
    if not mixed:
        return i
    k = i % 7
    if k == 0:
        return i
    if k == 1:
        return Int64(1000 + i)
    if k == 2:
        return float(i) + 0.5
    if k == 3:
        return "id%03d" % i
    if k == 4:
        return ObjectId("%024x" % (i + 1))
    if k == 5:
        return Decimal128("%d.75" % i)
    return SON([("k", i)])


def unique_value(r, i):
    k = r.randint(0, 4)
    if k == 0:
        return i
    if k == 1:
        return Int64(i + 100000)
    if k == 2:
        return float(i) + 0.25
    if k == 3:
        return Decimal128("%d.5" % (i + 200000))
    return "u%05d" % i


def stringy_document(r, i, mixed_ids=False):
    """A document whose a, c, t, n.x and s hold mostly strings that
    collations compare unlike binary comparison."""
    d = document(r, i, mixed_ids)
    if r.random() < 0.9:
        k = r.random()
        d["a"] = collated_string(r) if k < 0.55 else string_array(r) if k < 0.75 else number(r) if k < 0.85 else \
            SON([("x", collated_string(r))]) if k < 0.93 else [SON([("x", collated_string(r))]), collated_string(r)]
    if r.random() < 0.85:
        d["c"] = collated_string(r) if r.random() < 0.75 else string_array(r)
    if r.random() < 0.8:
        d["t"] = string_array(r) if r.random() < 0.85 else collated_string(r)
    if isinstance(d.get("n"), dict) and r.random() < 0.7:
        d["n"]["x"] = collated_string(r)
    if "s" in d and r.random() < 0.5:
        d["s"] = collated_string(r)
    return d


def document(r, i, mixed_ids=False):
    d = SON()
    d["_id"] = doc_id(r, i, mixed_ids)
    fields = []
    if r.random() < 0.85:
        k = r.random()
        fields.append(("a", number(r) if k < 0.3 else collated_string(r) if k < 0.5 else
                       (array(r) if k < 0.62 else string_array(r) if k < 0.7 else value(r))))
    if r.random() < 0.85:
        k = r.random()
        fields.append(("b", number(r) if k < 0.85 else scalar(r, r.choice(["null", "string", "bool", "date"]))))
    if r.random() < 0.8:
        k = r.random()
        if k < 0.65:
            fields.append(("c", r.choice(STRINGS) if r.random() < 0.5 else collated_string(r)))
        elif k < 0.85:
            fields.append(("c", string_array(r) if r.random() < 0.5 else
                           [r.choice(STRINGS) for _ in range(r.randint(0, 3))]))
        else:
            fields.append(("c", scalar(r)))
    if r.random() < 0.75:
        k = r.random()
        if k < 0.6:
            fields.append(("n", xy_doc(r)))
        elif k < 0.8:
            fields.append(("n", [xy_doc(r) if r.random() < 0.8 else number(r) for _ in range(r.randint(0, 3))]))
        else:
            fields.append(("n", value(r)))
    if r.random() < 0.7:
        k = r.random()
        if k < 0.8:
            fields.append(("arr", [xy_doc(r) for _ in range(r.randint(0, 3))]))
        else:
            fields.append(("arr", value(r)))
    if r.random() < 0.7:
        k = r.random()
        if k < 0.5:
            fields.append(("t", array(r, 1)))
        elif k < 0.8:
            fields.append(("t", string_array(r)))
        else:
            fields.append(("t", number(r) if r.random() < 0.5 else scalar(r)))
    fields.append(("u", unique_value(r, i)))
    if r.random() < 0.5:
        fields.append(("s", value(r)))
    if r.random() < 0.6:
        fields.append(("p", number(r) if r.random() < 0.6 else value(r)))
    r.shuffle(fields)  # field order varies from document to document
    for k, v in fields:
        d[k] = v
    return d


def documents(r, n=None):
    n = n if n is not None else r.choice([3, 8, 15, 25, 40])
    mixed = r.random() < 0.2
    if r.random() < 0.35:
        return [stringy_document(r, i, mixed) for i in range(n)]
    return [document(r, i, mixed) for i in range(n)]


# The indexes every indexed collection gets. Hinted by name.
PARTIAL_FILTER = SON([("b", SON([("$gte", 0)]))])
INDEXES = [
    {"name": "a_1", "key": [("a", 1)]},
    {"name": "b_-1", "key": [("b", -1)]},
    {"name": "c_1_b_-1", "key": [("c", 1), ("b", -1)]},
    {"name": "n.x_1", "key": [("n.x", 1)]},
    {"name": "arr.x_1_arr.y_-1", "key": [("arr.x", 1), ("arr.y", -1)]},
    {"name": "t_1_b_1", "key": [("t", 1), ("b", 1)]},
    {"name": "u_1", "key": [("u", 1)], "unique": True},
    {"name": "s_1", "key": [("s", 1)], "sparse": True},
    {"name": "p_1", "key": [("p", 1)], "partialFilterExpression": PARTIAL_FILTER},
    {"name": "a_-1__id_1", "key": [("a", -1), ("_id", 1)]},
    {"name": "c_1_b_-1__id_1", "key": [("c", 1), ("b", -1), ("_id", 1)]},
    {"name": "t_1__id_-1", "key": [("t", 1), ("_id", -1)]},
    {"name": "n.x_1__id_1", "key": [("n.x", 1), ("_id", 1)]},
    # collated indexes, two on keys that also have a binary index (MongoDB
    # allows one index per key and collation, under different names)
    {"name": "a_1_en2", "key": [("a", 1)], "collation": EN2},
    {"name": "t_1_b_1_fr", "key": [("t", 1), ("b", 1)], "collation": FR_UPPER},
    {"name": "c_1__id_1_en2", "key": [("c", 1), ("_id", 1)], "collation": EN2},
    {"name": "a_-1__id_1_num", "key": [("a", -1), ("_id", 1)], "collation": EN_NUM},
]
# Sorts an index can give (forwards or backwards), ending in _id so they are total.
INDEX_SORTS = []
for _ix in INDEXES:
    if _ix["key"][-1][0] == "_id" and len(_ix["key"]) > 1 and _ix["key"] not in INDEX_SORTS:
        INDEX_SORTS.append(_ix["key"])
COLLATED_INDEXES = [ix for ix in INDEXES if "collation" in ix]
SPARSE_FIELD = {"s_1": "s"}
PARTIAL = {"p_1": PARTIAL_FILTER}

# ---------------------------------------------------------------- filters

PATHS = ["a", "a", "b", "b", "c", "n", "n.x", "n.y", "arr", "arr.x", "arr.y", "t", "t", "u", "s", "p", "_id",
         "a.0", "t.0", "t.1", "arr.0.x", "n.0.x", "n.x.y", "zz", "a.x", "a.0.0"]
TYPE_ALIASES = ["double", "string", "object", "array", "binData", "objectId", "bool", "date", "null", "regex",
                "int", "timestamp", "long", "decimal", "minKey", "maxKey", "number"]
TYPE_CODES = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 16, 17, 18, 19, -1, 127]


class ValuePool:
    """Values seen in the documents, by path, so that filters hit."""

    def __init__(self, docs):
        self.values = {}
        for d in docs:
            self._walk(d, "")

    def _walk(self, v, prefix):
        if prefix:
            self.values.setdefault(prefix, []).append(v)
        if isinstance(v, dict):
            for k, x in v.items():
                self._walk(x, prefix + "." + k if prefix else k)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                self.values.setdefault(prefix, []).append(x)
                if isinstance(x, dict):
                    for k, y in x.items():
                        self._walk(y, prefix + "." + k)

    def pick(self, r, path):
        seen = self.values.get(path)
        if seen and r.random() < 0.6:
            return copy.deepcopy(r.choice(seen))
        return value(r)

    def pick_variant(self, r, path):
        """pick, with strings often replaced by a variant (string_variant)."""
        v = self.pick(r, path)
        return string_variant(r, v) if isinstance(v, str) and r.random() < 0.5 else v


def operand(r, pool, path):
    v = pool.pick(r, path) if r.random() < 0.7 else (number(r) if r.random() < 0.4 else value(r))
    if isinstance(v, str) and r.random() < 0.35:
        v = string_variant(r, v)
    elif isinstance(v, (dict, list)) and r.random() < 0.3:
        v = deep_variant(r, v)
    return v


def leaf(r, pool, path=None, depth=0):
    path = path or r.choice(PATHS)
    k = r.random()
    if k < 0.14:
        return {path: operand(r, pool, path)}
    if k < 0.4:
        op = r.choice(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"])
        v = operand(r, pool, path)
        if isinstance(v, Regex) and op not in ("$eq", "$ne"):
            v = number(r)
        cond = SON([(op, v)])
        if op in ("$gt", "$gte") and r.random() < 0.4:
            cond[r.choice(["$lt", "$lte"])] = number(r) if r.random() < 0.6 else operand(r, pool, path)
            if isinstance(cond.get("$lt", cond.get("$lte")), Regex):
                cond.pop("$lt", None), cond.pop("$lte", None)
        return {path: cond}
    if k < 0.5:
        op = r.choice(["$in", "$nin"])
        vals = [operand(r, pool, path) for _ in range(r.randint(0, 4))]
        if r.random() < 0.15:
            vals.append(r.choice(REGEXES))
        return {path: {op: vals}}
    if k < 0.56:
        return {path: {"$exists": r.random() < 0.5}}
    if k < 0.62:
        t = r.choice(TYPE_ALIASES) if r.random() < 0.7 else r.choice(TYPE_CODES)
        if r.random() < 0.2:
            t = [t, r.choice(TYPE_ALIASES)]
        return {path: {"$type": t}}
    if k < 0.67:
        return {path: {"$size": r.choice([0, 1, 2, 3])}}
    if k < 0.72:
        vals = [operand(r, pool, path) for _ in range(r.randint(1, 3))]
        if r.random() < 0.2:
            vals = [{"$elemMatch": {"$gte": number(r)}}]
        return {path: {"$all": vals}}
    if k < 0.8 and depth < 2:
        if r.random() < 0.5:
            # value form: conditions on each element
            cond = SON([(r.choice(["$gt", "$gte", "$lt", "$lte", "$ne", "$eq"]), number(r))])
            if r.random() < 0.5:
                extra = r.choice(["$lt", "$lte", "$type"])
                cond[extra] = "number" if extra == "$type" else number(r)
            return {path: {"$elemMatch": cond}}
        sub = conjunction(r, pool, ["x", "y", "x", "z"], depth + 1, size=r.randint(1, 2))
        return {path: {"$elemMatch": sub}}
    if k < 0.85:
        inner = leaf(r, pool, path, depth + 1).get(path, {"$exists": False})
        if not isinstance(inner, dict) or not inner or not all(str(x).startswith("$") for x in inner):
            inner = {"$eq": inner}
        if r.random() < 0.2:
            inner = r.choice(REGEXES)
        return {path: {"$not": inner}}
    if k < 0.89:
        d = r.choice([1, 2, 3, 5, -2])
        if r.random() < 0.03:
            d = 0  # an error on both sides
        return {path: {"$mod": [d if r.random() < 0.8 else float(d) + 0.5, r.randint(-1, 2)]}}
    if k < 0.94:
        pattern = r.choice(["^a", "b", "^$", "é", "^A", "c$", ".", "^日", "a|b", "^\\d"])
        if r.random() < 0.5:
            return {path: Regex(pattern, r.choice(["", "i", "m", "s", "x"]))}
        cond = SON([("$regex", pattern)])
        if r.random() < 0.5:
            cond["$options"] = r.choice(["i", "", "m", "s"])
        return {path: cond}
    if depth > 0:
        return {path: {"$exists": True}}
    return {"$expr": expr(r, pool)}


STRING_PATHS = ["a", "a", "c", "c", "t", "t", "n.x", "_id", "u", "s"]


def string_operand(r, pool, path):
    """A string near the strings stored at path: one of them or a variant."""
    seen = [v for v in pool.values.get(path, []) if isinstance(v, str)]
    s = r.choice(seen) if seen and r.random() < 0.7 else r.choice(COLLATED_STRINGS)
    return string_variant(r, s) if r.random() < 0.5 else s


def string_leaf(r, pool, path=None):
    """A comparison of strings, where collations matter."""
    path = path or r.choice(STRING_PATHS)
    k = r.random()
    if k < 0.2:
        return {path: string_operand(r, pool, path)}
    if k < 0.55:
        op = r.choice(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"])
        cond = SON([(op, string_operand(r, pool, path))])
        if op in ("$gt", "$gte") and r.random() < 0.5:
            cond[r.choice(["$lt", "$lte"])] = string_operand(r, pool, path)
        return {path: cond}
    if k < 0.75:
        return {path: {r.choice(["$in", "$nin"]): [string_operand(r, pool, path) for _ in range(r.randint(1, 3))]}}
    if k < 0.85:
        return {path: {"$all": [string_operand(r, pool, path) for _ in range(r.randint(1, 2))]}}
    if k < 0.92:
        return {path: {"$elemMatch": {r.choice(["$eq", "$gte", "$lt"]): string_operand(r, pool, path)}}}
    return {"$expr": {r.choice(["$eq", "$ne", "$gt", "$lte"]): ["$" + path, string_operand(r, pool, path)]}}


def string_filter(r, pool, path=None):
    """One to three comparisons of strings (on path, or any), and-ed, or-ed
    or alone."""
    leaves = [string_leaf(r, pool, path) for _ in range(r.choice([1, 1, 2, 3]))]
    if len(leaves) == 1:
        return leaves[0]
    return {r.choice(["$and", "$or", "$or", "$nor"]): leaves}


def field_ref(r):
    return "$" + r.choice(["a", "b", "c", "n.x", "arr.x", "t", "u", "s", "p", "zz", "_id"])


def literal(r, pool):
    v = operand(r, pool, r.choice(["a", "b", "c"]))
    if isinstance(v, (dict, list)) or (isinstance(v, str) and v.startswith("$")):
        return {"$literal": v}
    return v


def expr(r, pool, depth=0):
    """$expr expressions that cannot fail at run time: comparisons, $type,
    $ifNull, $isNumber, $isArray, logical operators."""
    k = r.random()
    if depth < 2 and k < 0.2:
        op = r.choice(["$and", "$or"])
        return {op: [expr(r, pool, depth + 1) for _ in range(r.randint(1, 3))]}
    if depth < 2 and k < 0.27:
        return {"$not": [expr(r, pool, depth + 1)]}
    if k < 0.37:
        return {"$eq": [{"$type": field_ref(r)}, r.choice(TYPE_ALIASES[:-1] + ["missing"])]}
    if k < 0.45:
        return {r.choice(["$isNumber", "$isArray"]): field_ref(r)}
    op = r.choice(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"])
    left = field_ref(r)
    if r.random() < 0.2:
        left = {"$ifNull": [left, literal(r, pool)]}
    right = field_ref(r) if r.random() < 0.25 else literal(r, pool)
    if r.random() < 0.1:
        right = {"$cmp": [field_ref(r), literal(r, pool)]}
        left = r.choice([-1, 0, 1])
    return {op: [left, right]}


def conjunction(r, pool, paths=None, depth=0, size=None):
    out = SON()
    size = size if size is not None else r.choice([0, 1, 1, 1, 2, 2, 3])
    for _ in range(size):
        if depth < 2 and r.random() < 0.15 and paths is None:
            op = r.choice(["$and", "$or", "$nor"])
            clause = [filter_(r, pool, depth + 1) for _ in range(r.randint(1, 3))]
            key, val = op, clause
        elif paths is None and r.random() < 0.15:
            key, val = next(iter(string_leaf(r, pool).items()))
        else:
            path = r.choice(paths) if paths else None
            lf = leaf(r, pool, path, depth)
            key, val = next(iter(lf.items()))
        if key in out:
            continue
        out[key] = val
    return out


def filter_(r, pool, depth=0):
    return conjunction(r, pool, None, depth)


def id_lookup(r, docs):
    """Point reads by _id or by the unique field (the row cache answers these)."""
    ids = [d["_id"] for d in docs] + [99999, "nope"]
    ids += [string_variant(r, i) for i in ids if isinstance(i, str)]
    k = r.random()
    if k < 0.4:
        return {"_id": copy.deepcopy(r.choice(ids))}
    if k < 0.65:
        return {"_id": {"$in": [copy.deepcopy(r.choice(ids)) for _ in range(r.randint(1, 4))]}}
    us = [d["u"] for d in docs if "u" in d] + ["u99999"]
    us += [string_variant(r, u) for u in us if isinstance(u, str) and r.random() < 0.3]
    if k < 0.9:
        return {"u": copy.deepcopy(r.choice(us))}
    return {"u": {"$in": [copy.deepcopy(r.choice(us)) for _ in range(r.randint(1, 3))]}}


# ---------------------------------------------------------------- projections and sorts

SORT_PATHS = ["a", "b", "c", "n.x", "arr.x", "t", "u", "s", "p", "zz", "n", "arr.y"]


def sort_spec(r):
    """A sort made total with _id as the last key, so that the order of ties
    (which MongoDB leaves open) cannot differ between plans."""
    if r.random() < 0.4:
        keys = list(r.choice(INDEX_SORTS))
        if r.random() < 0.5:
            keys = [(k, -d) for k, d in keys]
        return keys
    keys = []
    for p in r.sample(SORT_PATHS, r.choice([1, 1, 2])):
        keys.append((p, r.choice([1, -1])))
    if r.random() < 0.1:
        keys = []
    keys.append(("_id", r.choice([1, -1])))
    return keys


INCLUDE_PATHS = ["a", "b", "c", "n", "n.x", "arr", "arr.x", "arr.y", "t", "u", "s", "zz", "n.x.y"]


def projection(r):
    """Returns (projection, aggregate_equivalent or None)."""
    k = r.random()
    if k < 0.4:
        fields = r.sample(INCLUDE_PATHS, r.randint(1, 3))
        fields = _no_collisions(fields)
        proj = SON((f, r.choice([1, True])) for f in fields)
        if r.random() < 0.3:
            proj["_id"] = 0
        return proj, SON(proj)
    if k < 0.75:
        fields = _no_collisions(r.sample(INCLUDE_PATHS, r.randint(1, 3)))
        proj = SON((f, r.choice([0, False])) for f in fields)
        if r.random() < 0.2:
            proj["_id"] = 0
        return proj, SON(proj)
    if k < 0.88:
        f = r.choice(["t", "arr", "a", "c", "n"])
        s = r.choice([1, 2, -1, 0, [1, 2], [-2, 1], [0, 5]])
        proj = SON([(f, {"$slice": s})])
        if r.random() < 0.5:
            proj[r.choice(["b", "u"])] = r.choice([0, 1])
        return proj, None
    f = r.choice(["arr", "n", "t"])
    cond = {"x": {"$gte": number(r)}} if f != "t" else {"$gte": number(r)}
    if f == "t":
        proj = SON([(f, {"$elemMatch": {"$in": [number(r), scalar(r, "string")]}})])
    else:
        proj = SON([(f, {"$elemMatch": cond})])
    if r.random() < 0.5:
        proj["b"] = 1
    return proj, None


def _no_collisions(fields):
    out = []
    for f in fields:
        if any(f == o or f.startswith(o + ".") or o.startswith(f + ".") for o in out):
            continue
        out.append(f)
    return out


def find_spec(r, pool, docs):
    """One find: filter, and maybe projection, sort, skip, limit."""
    spec = {"filter": id_lookup(r, docs) if r.random() < 0.12 else filter_(r, pool)}
    if r.random() < 0.5:
        spec["sort"] = sort_spec(r)
        if r.random() < 0.35:
            spec["skip"] = r.choice([0, 1, 2, 5])
        if r.random() < 0.4:
            spec["limit"] = r.choice([1, 2, 3, 10])
    if r.random() < 0.35:
        spec["projection"], spec["agg_projection"] = projection(r)
    maybe_collation(r, spec, pool=pool)
    if "collation" in spec:
        k = r.random()
        if k < 0.3:
            # the collation, bounds and order of a collated index: the planner's
            # collated plans (and, hinted under another collation, whole reads)
            ix = r.choice(COLLATED_INDEXES)
            spec["collation"] = copy.deepcopy(ix["collation"])
            first = ix["key"][0][0]
            if r.random() < 0.8:
                spec["filter"] = string_filter(r, pool, first) if r.random() < 0.6 else \
                    {"$and": [string_leaf(r, pool, first), spec["filter"]]}
            if ix["key"][-1][0] == "_id" or r.random() < 0.3:
                keys = list(ix["key"]) + ([] if ix["key"][-1][0] == "_id" else [("_id", 1)])
                spec["sort"] = [(f, -d) for f, d in keys] if r.random() < 0.5 else keys
        elif k < 0.7:
            spec["sort"] = string_sort(r)
    return spec


# ---------------------------------------------------------------- updates

UPDATE_PATHS = ["a", "b", "c", "m", "n.x", "n.y", "t", "arr", "p", "s", "zz"]
NUMERIC_TYPES = ["int", "long", "double", "decimal"]


def _lit(v):
    return {"$literal": v}


def _missing(path):
    return {"$eq": [{"$type": "$" + path}, "missing"]}


def _guard_types(path, types):
    return {"$expr": {"$in": [{"$type": "$" + path}, types]}}


def _element_condition(r, pool, path):
    """A match condition on an array element that compares strings, and the
    expression on $$this that holds for the same (non-array) elements."""
    kind = r.choice(["$eq", "$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte"])
    if kind in ("$in", "$nin"):
        vals = [string_operand(r, pool, path) for _ in range(r.randint(1, 3))]
        test = {"$in": ["$$this", _lit(vals)]}
        return {kind: vals}, test if kind == "$in" else {"$not": [test]}
    v = string_operand(r, pool, path)
    test = {kind: ["$$this", _lit(v)]}
    if kind not in ("$eq", "$ne"):
        # a match comparison holds within its type bracket only
        test = {"$and": [{"$eq": [{"$type": "$$this"}, "string"]}, test]}
    return {kind: v}, test


def update_spec(r, pool):
    """An operator update and its pipeline equivalent, with a guard filter that
    keeps both defined on the same documents.

    Returns {"filter", "update", "pipeline"}; the filter is the random filter
    and-ed with the guards each operator needs (e.g. $inc only where the field
    is a number or missing, dotted paths only where the parent is a document
    or missing), so the two forms must give identical documents.
    MongoDB 5.0+ applies the fields of an operator update in lexicographic
    order of their paths, so the pipeline sets them in that order."""
    ops = SON()
    guards = []
    steps = []  # (path, stage)
    used = []
    array_filters = None
    for _ in range(r.choice([1, 1, 2, 3])):
        path = r.choice(UPDATE_PATHS)
        if any(path == u or path.startswith(u + ".") or u.startswith(path + ".") for u in used):
            continue
        op = r.choice(["$set", "$set", "$unset", "$inc", "$mul", "$min", "$max", "$push", "$addToSet", "$pull",
                       "$pop", "$rename", "arrayFilters", "$pullAll", "pullCondition"])
        if op in ("arrayFilters", "$pullAll", "pullCondition"):
            if path not in ("t", "c", "a") or (op == "arrayFilters" and array_filters is not None):
                op = "$set"
            else:
                # Operators that compare array elements with strings, under the update's
                # collation, as the pipeline's expressions do. Only arrays without arrays
                # in them: a match condition on an array element would look into it, an
                # expression does not.
                guards.append(_guard_types(path, ["array"]))
                guards.append({path: {"$not": {"$elemMatch": {"$type": "array"}}}})
                f = "$" + path
                if op == "$pullAll":
                    vals = [string_operand(r, pool, path) if r.random() < 0.8 else number(r)
                            for _ in range(r.randint(0, 3))]
                    ops.setdefault("$pullAll", SON())[path] = vals
                    new = {"$filter": {"input": f, "cond": {"$not": [{"$in": ["$$this", _lit(vals)]}]}}}
                else:
                    cond, test = _element_condition(r, pool, path)
                    if op == "pullCondition":
                        # {$pull: {t: {$gte: "ab"}}}: the elements that match the condition
                        ops.setdefault("$pull", SON())[path] = cond
                        new = {"$filter": {"input": f, "cond": {"$not": [test]}}}
                    else:
                        # {$set: {"t.$[e]": v}} with arrayFilters [{e: condition}]
                        array_filters = [{"e": cond}]
                        v = value(r, 1) if r.random() < 0.5 else string_operand(r, pool, path)
                        ops.setdefault("$set", SON())[path + ".$[e]"] = v
                        new = {"$map": {"input": f, "in": {"$cond": [test, _lit(v), "$$this"]}}}
                used.append(path)
                steps.append((path, [{"$set": {path: new}}]))
                continue
        if "." in path:
            # operator updates refuse a dotted path through a scalar or an array
            # of documents where a pipeline would rewrite it; and a pipeline's
            # {$set: {"n.x": "$$REMOVE"}} creates n: {} where $pull and $pop on a
            # missing n do nothing
            parent = path.split(".")[0]
            guards.append(_guard_types(parent, ["object"] if op in ("$pull", "$pop") else ["object", "missing"]))
        if op == "$rename" and "." in path:
            op = "$set"
        f = "$" + path
        if op == "$set":
            v = value(r) if r.random() < 0.7 else pool.pick(r, path)
            arg, stage = v, {"$set": {path: _lit(v)}}
        elif op == "$unset":
            arg, stage = "", {"$unset": path}
        elif op in ("$inc", "$mul"):
            # small operands, and no int64 beyond 2^53: an int64 overflow is an
            # error for $inc/$mul (as in MongoDB) but a double for $add/$multiply
            v = r.choice([1, -2, 3, Int64(5), Int64(-1), 2.5, -0.5, 0.0, -0.0, Decimal128("1.5"), Decimal128("-2"),
                          float("nan"), float("inf"), 10 ** 6, -(2 ** 31)])
            if op == "$inc" and v == 0 and str(v).startswith("-"):
                # -0 + -0 is -0 for $inc (one IEEE addition) but $add starts its sum
                # from 0, so {$add: [-0, -0]} is 0 in MongoDB too: not equivalent
                v = 0.0
            guards.append(_guard_types(path, NUMERIC_TYPES + ["missing"]))
            guards.append({"$expr": {"$or": [{"$ne": [{"$type": f}, "long"]},
                                             {"$and": [{"$lt": [f, Int64(2 ** 53)]}, {"$gt": [f, Int64(-2 ** 53)]}]}]}})
            if op == "$inc":
                new = {"$cond": [_missing(path), v, {"$add": [f, v]}]}
            else:
                # a missing field becomes the multiplier times int32 0 (MongoDB's
                # ArithmeticNode: a zero of the multiplier's type keeping a double's
                # or decimal's sign, NaN for an infinite multiplier)
                new = {"$cond": [_missing(path), {"$multiply": [0, v]}, {"$multiply": [f, v]}]}
            arg, stage = v, {"$set": {path: new}}
        elif op in ("$min", "$max"):
            v = value(r) if r.random() < 0.5 else pool.pick_variant(r, path)
            cmp = "$lt" if op == "$min" else "$gt"
            new = {"$cond": [{"$or": [_missing(path), {cmp: [_lit(v), f]}]}, _lit(v), f]}
            arg, stage = v, {"$set": {path: new}}
        elif op in ("$push", "$addToSet"):
            guards.append(_guard_types(path, ["array", "missing"]))
            each = r.random() < 0.3
            vals = [value(r, 1) if r.random() < 0.6 else pool.pick_variant(r, path)
                    for _ in range(r.randint(0 if each else 1, 3 if each else 1))]
            base = {"$cond": [_missing(path), [], f]}
            if op == "$push":
                new = {"$concatArrays": [base, _lit(vals)]}
                arg = {"$each": vals} if each else vals[0]
                if each and r.random() < 0.4:
                    n = r.choice([1, 2, -1, -2, 3])
                    arg = {"$each": vals, "$slice": n}
                    new = {"$slice": [new, n]}
            else:
                new = {"$reduce": {"input": _lit(vals), "initialValue": base,
                                   "in": {"$cond": [{"$in": ["$$this", "$$value"]}, "$$value",
                                                    {"$concatArrays": ["$$value", ["$$this"]]}]}}}
                arg = {"$each": vals} if each else vals[0]
            stage = {"$set": {path: new}}
        elif op == "$pull":
            guards.append(_guard_types(path, ["array", "missing"]))
            v = scalar(r) if r.random() < 0.5 else pool.pick_variant(r, path)
            if isinstance(v, (dict, list)) or isinstance(v, Regex):
                v = number(r)
            new = {"$cond": [{"$isArray": f}, {"$filter": {"input": f, "cond": {"$ne": ["$$this", _lit(v)]}}},
                             "$$REMOVE"]}
            arg, stage = v, {"$set": {path: new}}
        elif op == "$pop":
            guards.append(_guard_types(path, ["array", "missing"]))
            v = r.choice([1, -1])
            size = {"$size": f}
            if v == 1:
                popped = {"$cond": [{"$lte": [size, 1]}, [], {"$slice": [f, {"$subtract": [size, 1]}]}]}
            else:
                popped = {"$cond": [{"$lte": [size, 1]}, [], {"$slice": [f, 1, {"$subtract": [size, 1]}]}]}
            new = {"$cond": [{"$isArray": f}, popped, "$$REMOVE"]}
            arg, stage = v, {"$set": {path: new}}
        else:  # $rename, top-level to top-level, alone in its update
            # MongoDB leaves the place of the renamed field open when the target
            # exists ("may not preserve the order of the fields") and when other
            # operators add fields too: only a target that does not exist, alone
            if ops:
                continue
            target = r.choice([p for p in ["m", "zz", "q", "a", "p"] if p != path])
            guards.append({path: {"$exists": True}})
            guards.append({target: {"$exists": False}})
            ops.setdefault(op, SON())[path] = target
            used += [path, target]
            steps.append((target, [{"$set": {target: f}}, {"$unset": path}]))
            break
        ops.setdefault(op, SON())[path] = arg
        used.append(path)
        steps.append((path, [stage]))
    if not ops:
        ops["$set"] = SON([("m", 1)])
        steps.append(("m", [{"$set": {"m": 1}}]))
    steps.sort(key=lambda s: s[0].split("."))
    pipeline = [stage for _, stages in steps for stage in stages]
    base = filter_(r, pool) if r.random() < 0.6 else {}
    collated = maybe_collation(r, {"filter": base}, pool=pool)  # the random part first: see run.Minimizer
    base = collated.pop("filter")
    filt = {"$and": [base] + guards} if guards else base
    out = {"filter": filt, "update": ops, "pipeline": pipeline, "multi": r.random() < 0.8, **collated}
    if array_filters is not None:
        out["array_filters"] = array_filters
    return out


# ---------------------------------------------------------------- pipelines

def add_fields(r, pool):
    k = r.random()
    name = r.choice(["f", "g", "b2"])
    if k < 0.2:
        e = field_ref(r)
    elif k < 0.35:
        e = {"$type": field_ref(r)}
    elif k < 0.5:
        e = {"$ifNull": [field_ref(r), literal(r, pool)]}
    elif k < 0.65:
        e = {"$cond": [expr(r, pool), literal(r, pool), field_ref(r)]}
    elif k < 0.8:
        e = {"$cond": [{"$isArray": "$t"}, {"$size": "$t"}, -1]}
    elif k < 0.9:
        e = {"$cond": [{"$isNumber": "$b"}, {"$add": ["$b", number(r)]}, None]}
    else:
        e = _lit(value(r))
    return {name: e}


def pipeline_spec(r, pool):
    """A random pipeline, built so that its answer does not depend on the order
    the documents come in: $skip, $limit and $group (whose $first, $push and
    floating-point $sum follow input order) only after a total $sort; after
    $unwind the sort adds the element index as a tiebreaker."""
    stages = []
    ordered = False
    unwound = False
    if r.random() < 0.8:
        stages.append({"$match": filter_(r, pool)})
    if r.random() < 0.6:
        stages.append({"$sort": SON(sort_spec(r))})
        ordered = True
    if r.random() < 0.25:
        path = r.choice(["t", "arr", "a", "c", "n"])
        spec = SON([("path", "$" + path), ("includeArrayIndex", "ix")])
        if r.random() < 0.5:
            spec["preserveNullAndEmptyArrays"] = True
        stages.append({"$unwind": spec})
        unwound = True
        if r.random() < 0.4:
            keys = SON(sort_spec(r))
            keys["ix"] = 1
            stages.append({"$sort": keys})
            ordered = True
    if r.random() < 0.3:
        stages.append({"$addFields": add_fields(r, pool)})
    if r.random() < 0.2:
        stages.append({"$match": filter_(r, pool)})
    if ordered and r.random() < 0.3:
        stages.append({"$skip": r.choice([0, 1, 3])})
    if ordered and r.random() < 0.4:
        stages.append({"$limit": r.choice([1, 2, 5, 20])})
    k = r.random()
    if ordered and k < 0.35:
        key = r.choice([None, "$c", "$b", "$n.x", {"k": "$a"}, "$t", {"$type": "$a"}])
        acc = SON([("_id", key)])
        for name in r.sample(["s", "mn", "mx", "pu", "fi", "cnt"], r.randint(1, 3)):
            arg = field_ref(r)
            acc[name] = {"s": {"$sum": arg}, "mn": {"$min": arg}, "mx": {"$max": arg}, "pu": {"$push": arg},
                         "fi": {"$first": arg}, "cnt": {"$sum": 1}}[name]
        stages.append({"$group": acc})
        stages.append({"$sort": {"_id": 1}})
    elif k < 0.5:
        stages.append({"$count": "n"})
    elif k < 0.75 and not unwound:
        proj, agg = projection(r)
        if agg is not None:
            stages.append({"$project": agg})
    elif k < 0.85:
        stages.append({"$project": SON([("_id", 1), ("v", add_fields(r, pool).popitem()[1])])})
    spec = maybe_collation(r, {"pipeline": stages, "ordered": ordered or any("$count" in s for s in stages)},
                           pool=pool)
    if "collation" in spec and r.random() < 0.5:
        # the first sort (before any $group) on the fields that hold strings
        for i, stage in enumerate(stages):
            if "$group" in stage:
                break
            if "$sort" in stage:
                keys = SON(string_sort(r))
                if "ix" in stage["$sort"]:
                    keys["ix"] = 1
                stages[i] = {"$sort": keys}
                break
    return spec


# ---------------------------------------------------------------- cases

def case(r, pool, docs):
    """One case against a dataset: a find, a count, a pipeline, or an update."""
    k = r.random()
    if k < 0.6:
        return {"kind": "find", **find_spec(r, pool, docs)}
    if k < 0.75:
        return {"kind": "aggregate", **pipeline_spec(r, pool)}
    return {"kind": "update", **update_spec(r, pool)}
