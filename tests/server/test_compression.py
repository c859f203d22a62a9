"""OP_COMPRESSED: pymongo negotiates each compressor in the handshake and then
sends and receives compressed messages."""
import pytest


@pytest.mark.parametrize("compressor", ["snappy", "zlib", "zstd"])
def test_round_trip_with_each_compressor(server, compressor):
    with server.client(compressors=compressor) as client:
        hello = client.admin.command("hello", compression=[compressor, "bogus"])
        assert hello["compression"] == [compressor]
        db = client["compression_" + compressor]
        db.c.drop()
        docs = [{"_id": i, "text": "repetitive " * 50} for i in range(300)]
        db.c.insert_many(docs)
        assert list(db.c.find().sort("_id", 1).batch_size(50)) == docs
        assert db.c.find_one_and_update({"_id": 1}, {"$set": {"text": "x"}}, return_document=True)["text"] == "x"
        # The server really received compressed messages.
        status = client.admin.command("serverStatus")
        assert status["network"]["compression"][compressor]["decompressor"]["messages"] >= 5
        client.drop_database(db.name)
