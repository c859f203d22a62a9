"""collStats, dbStats, validate and listDatabases report measured figures:
the indexes that exist, their sizes, the records' storage; admin is listed;
sizeOnDisk is what the data takes on disk. validate checks every index."""
import shutil
import tempfile

import pytest
from bson import SON

from conftest import DocketServer


@pytest.fixture(scope="module")
def disk_server():
    path = tempfile.mkdtemp(prefix="docket-stats-")
    s = DocketServer(dbpath=path)
    yield s
    assert s.stop() == 0
    shutil.rmtree(path, ignore_errors=True)


def fill(db):
    db.c.create_index("email", unique=True)
    db.c.create_index([("tags", 1), ("n", -1)])
    db.c.insert_many([{"_id": i, "email": "u%d@x" % i, "n": i % 7, "tags": ["a", "b%d" % (i % 3)],
                       "pad": "%d" % (i * 7919) * 20} for i in range(2000)])


def test_coll_stats_lists_the_indexes_that_exist(db):
    fill(db)
    stats = db.command("collStats", "c")
    assert stats["count"] == 2000
    assert stats["nindexes"] == 3
    assert sorted(stats["indexSizes"]) == ["_id_", "email_1", "tags_1_n_-1"]
    assert all(size > 0 for size in stats["indexSizes"].values())
    assert stats["totalIndexSize"] == sum(stats["indexSizes"].values())
    assert stats["size"] > 2000 * 40
    scaled = db.command("collStats", "c", scale=1024)
    assert scaled["size"] == stats["size"] // 1024 and scaled["scaleFactor"] == 1024
    missing = db.command("collStats", "nothing")
    assert missing["count"] == 0 and missing["nindexes"] == 0


def test_db_stats_counts_every_index(db):
    fill(db)
    db.d.insert_one({"_id": 1})
    stats = db.command("dbStats")
    assert stats["collections"] == 2
    assert stats["objects"] == 2001
    assert stats["indexes"] == 4  # three on c, _id_ on d
    assert stats["indexSize"] > 0


def test_validate_checks_every_index(db):
    fill(db)
    result = db.command("validate", "c")
    assert result["valid"] is True, result["errors"]
    assert result["nIndexes"] == 3
    assert result["keysPerIndex"] == {"_id_": 2000, "email_1": 2000, "tags_1_n_-1": 4000}
    assert all(detail["valid"] for detail in result["indexDetails"].values())


def test_list_databases_shows_admin_and_measured_sizes(disk_server):
    client = disk_server.client()
    fill(client.stats_db)
    listed = {d["name"]: d for d in client.admin.command("listDatabases")["databases"]}
    assert "admin" in listed
    assert listed["stats_db"]["sizeOnDisk"] > 0
    assert listed["stats_db"]["empty"] is False
    total = client.admin.command("listDatabases")["totalSize"]
    assert total == sum(d["sizeOnDisk"] for d in listed.values())
    assert client.admin.system.version.find_one({"_id": "featureCompatibilityVersion"})["version"] == "6.0"
    client.close()
