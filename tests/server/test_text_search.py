"""Text search over the wire, as pymongo and mongoengine use it: a text index
listed in MongoDB's form, $text with the score projected and sorted, in find
and in aggregate, explain's TEXT_MATCH over the index, and MongoDB's errors
(codes as the drivers see them). The scores are mongod's own figures for
these documents (its fts_score_metadata test and the formula's worked
example)."""
import mongoengine
import pytest
from mongoengine import Document, StringField
from pymongo import TEXT
from pymongo.errors import OperationFailure, WriteError


@pytest.fixture
def articles(db):
    db.a.insert_many([
        {"_id": 1, "title": "the quick brown fox jumps over the quick dog"},
        {"_id": 2, "title": "Quick test", "body": "cafés au lait"},
        {"_id": 3, "title": "test"},
        {"_id": 4, "title": "test test"},
        {"_id": 5, "body": "nothing to see"},
    ])
    assert db.a.create_index([("title", TEXT), ("body", TEXT)]) == "title_text_body_text"
    return db.a


def test_search_with_scores_sorted(articles):
    found = list(articles.find({"$text": {"$search": "test"}}, {"score": {"$meta": "textScore"}})
                 .sort([("score", {"$meta": "textScore"})]))
    assert [(d["_id"], d["score"]) for d in found] == [(4, 1.5), (3, 1.1), (2, 0.75)]
    quick = list(articles.find({"$text": {"$search": "quick brown"}}, {"s": {"$meta": "textScore"}, "_id": 1}))
    assert sorted((d["_id"], d["s"]) for d in quick) == [(1, 1.5833333333333335), (2, 0.75)]
    assert articles.count_documents({"$text": {"$search": "cafe"}}) == 1
    assert articles.count_documents({"$text": {"$search": "quick -dog"}}) == 1
    assert articles.count_documents({"$text": {"$search": "\"quick brown\""}}) == 1


def test_index_listed_as_mongodb_lists_it(articles):
    spec = [i for i in articles.list_indexes() if i["name"] == "title_text_body_text"][0]
    assert spec["key"] == {"_fts": "text", "_ftsx": 1}
    assert spec["weights"] == {"body": 1, "title": 1}
    assert spec["default_language"] == "english"
    assert spec["language_override"] == "language"
    assert spec["textIndexVersion"] == 3
    # A second text index with other fields: IndexOptionsConflict.
    with pytest.raises(OperationFailure) as e:
        articles.create_index([("other", TEXT)])
    assert e.value.code == 85


def test_aggregate_with_the_score(articles):
    out = list(articles.aggregate([
        {"$match": {"$text": {"$search": "test quick"}}},
        {"$sort": {"score": {"$meta": "textScore"}, "_id": 1}},
        {"$project": {"score": {"$meta": "textScore"}}},
    ]))
    assert [(d["_id"], d["score"]) for d in out] == [(2, 1.5), (4, 1.5), (3, 1.1), (1, 1.0)]
    with pytest.raises(OperationFailure) as e:
        list(articles.aggregate([{"$match": {"_id": 1}}, {"$match": {"$text": {"$search": "x"}}}]))
    assert e.value.code == 17313


def test_explain_shows_text_match_over_the_index(articles):
    plan = articles.find({"$text": {"$search": "quick -dog"}}).explain()["queryPlanner"]["winningPlan"]
    assert plan["stage"] == "TEXT_MATCH"
    assert plan["indexName"] == "title_text_body_text"
    assert plan["parsedTextQuery"] == {"terms": ["quick"], "negatedTerms": ["dog"], "phrases": [],
                                       "negatedPhrases": []}
    assert plan["inputStage"]["inputStage"]["stage"] == "IXSCAN"


def test_errors_as_mongodb_gives_them(db, articles):
    db.plain.insert_one({"a": "x"})
    cases = [
        (db.plain, {"$text": {"$search": "x"}}, None, 27),
        (articles, {"$text": {"$search": 5}}, None, 14),
        (articles, {"$text": {}}, None, 4),
        (articles, {"$nor": [{"$text": {"$search": "x"}}]}, None, 2),
        (articles, {"$and": [{"$text": {"$search": "a"}}, {"$text": {"$search": "b"}}]}, None, 2),
        (articles, {"_id": 1}, {"s": {"$meta": "textScore"}}, 40218),
        (articles, {"$text": {"$search": "x", "$language": "klingon"}}, None, 2),
    ]
    for coll, flt, projection, code in cases:
        with pytest.raises(OperationFailure) as e:
            list(coll.find(flt, projection))
        assert e.value.code == code, (flt, e.value)
    with pytest.raises(OperationFailure) as e:
        list(articles.find({"$text": {"$search": "x"}}).hint("title_text_body_text"))
    assert e.value.code == 2
    # A document whose language override names an unknown language is refused whole.
    with pytest.raises(WriteError) as e:
        articles.insert_one({"_id": 9, "title": "hola", "language": "klingon"})
    assert e.value.code == 17262
    assert articles.count_documents({"_id": 9}) == 0


class Post(Document):
    title = StringField()
    content = StringField()
    meta = {"indexes": [{"fields": ["$title", "$content"], "default_language": "english",
                         "weights": {"title": 10, "content": 2}}]}


def test_mongoengine_search_text_ordered_by_score(server, request):
    mongoengine.disconnect_all()
    mongoengine.connect(db="t_mongoengine_text", host=server.uri, serverSelectionTimeoutMS=5000)
    try:
        Post.drop_collection()
        Post(title="Running with dogs", content="a story about a dog").save()
        Post(title="Cooking", content="dogs do not cook").save()
        Post(title="Cats", content="no dogs here at all").save()
        Post(title="Birds", content="nothing").save()
        found = list(Post.objects.search_text("dog").order_by("$text_score"))
        # The title weighs 10, the content 2: the title match comes first.
        assert [p.title for p in found][0] == "Running with dogs"
        assert len(found) == 3
        assert found[0].get_text_score() > found[1].get_text_score() >= found[2].get_text_score() > 0
    finally:
        Post.drop_collection()
        mongoengine.disconnect_all()
