// Collection::Stats measures, and Collection::Validate finds index entries
// that are missing, extra or wrong — checked by damaging the storage directly.
#include <gtest/gtest.h>
#include <rocksdb/utilities/transaction_db.h>

#include "engine/engine_impl.h"
#include "engine/indexes.h"
#include "storage/keys.h"
#include "storage/record_value.h"
#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::J;
using testing::Mode;

class StatsTest : public EngineTest {
 protected:
  void Fill() {
    c_ = std::make_unique<Collection>(engine_->collection("db", "c"));
    ASSERT_TRUE(c_->CreateIndex(J(R"({"email": 1})"), /*unique=*/true).ok());
    ASSERT_TRUE(c_->CreateIndex(J(R"({"tags": 1, "n": -1})")).ok());
    std::vector<Document> docs;
    for (int i = 0; i < 300; ++i) {
      docs.push_back(J("{\"_id\": " + std::to_string(i) + ", \"email\": \"u" + std::to_string(i) +
                       "@x\", \"n\": " + std::to_string(i % 7) + ", \"tags\": [\"a\", \"b" + std::to_string(i % 3) +
                       "\"], \"pad\": \"" + std::string(200, 'x') + "\"}"));
    }
    ASSERT_TRUE(c_->InsertMany(docs).ok());
  }
  rocksdb::TransactionDB* db() { return engine_->impl()->db(); }
  const storage::CollectionEntry& Entry() { return *engine_->impl()->catalog->Find("db", "c"); }
  std::unique_ptr<Collection> c_;
};

TEST_P(StatsTest, FiguresAreMeasured) {
  Fill();
  ASSERT_TRUE(engine_->Flush().ok());
  auto stats = c_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->count, 300);
  int64_t bytes = 0;
  auto cursor = c_->Find(Document());
  while (!cursor->exhausted()) {
    for (const Document& d : *cursor->NextBatch()) bytes += static_cast<int64_t>(d.size());
  }
  EXPECT_EQ(stats->data_size, bytes);
  ASSERT_EQ(stats->indexes.size(), 3u);
  EXPECT_EQ(stats->indexes[0].name, "_id_");
  EXPECT_EQ(stats->indexes[1].name, "email_1");
  EXPECT_EQ(stats->indexes[2].name, "tags_1_n_-1");
  for (const IndexSize& index : stats->indexes) EXPECT_GT(index.bytes, 0) << index.name;
  EXPECT_GT(stats->storage_size, 0);
  int64_t sum = 0;
  for (const IndexSize& index : stats->indexes) sum += index.bytes;
  EXPECT_EQ(stats->total_index_size, sum);
  // More data, more storage.
  std::vector<Document> more;
  for (int i = 300; i < 3000; ++i) {
    more.push_back(J("{\"_id\": " + std::to_string(i) + ", \"email\": \"v" + std::to_string(i) + "\", \"pad\": \"" +
                     std::to_string(i * 7919) + std::string(500, 'y') + "\"}"));
  }
  auto inserted = c_->InsertMany(more);
  ASSERT_TRUE(inserted.ok());
  ASSERT_EQ(inserted->inserted_count, more.size());
  ASSERT_TRUE(engine_->Flush().ok());
  auto bigger = c_->Stats();
  ASSERT_TRUE(bigger.ok());
  EXPECT_GT(bigger->storage_size, stats->storage_size);
  auto db_size = engine_->DatabaseStorageSize("db");
  ASSERT_TRUE(db_size.ok());
  EXPECT_GE(*db_size, bigger->storage_size);
  EXPECT_EQ(engine_->collection("db", "missing").Stats().status().code(), ErrorCode::kNamespaceNotFound);
}

TEST_P(StatsTest, AHealthyCollectionValidatesWithItsKeyCounts) {
  Fill();
  ASSERT_TRUE(c_->CreateIndex(J(R"({"sparse_field": 1})")).ok());
  auto result = c_->Validate();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->valid()) << (result->errors.empty() ? "" : result->errors.front());
  EXPECT_EQ(result->records, 300);
  ASSERT_EQ(result->keys_per_index.size(), 4u);
  EXPECT_EQ(result->keys_per_index[0], (std::pair<std::string, int64_t>("_id_", 300)));
  EXPECT_EQ(result->keys_per_index[1].second, 300);  // one email each
  EXPECT_EQ(result->keys_per_index[2].second, 600);  // two tags each
  EXPECT_EQ(result->keys_per_index[3].second, 300);  // missing field: a null key each
}

TEST_P(StatsTest, ValidateFindsMissingExtraAndWrongEntries) {
  Fill();
  const storage::CollectionEntry& entry = Entry();
  const auto& indexes = engine::IndexesOf(entry);
  ASSERT_EQ(indexes.size(), 2u);
  const index::Index& email = *indexes[0];
  // Remove the entry of document 5 from the email index.
  auto doc5 = c_->FindOne(J(R"({"_id": 5})"));
  ASSERT_TRUE(doc5.ok() && doc5->has_value());
  std::vector<std::string> keys;
  ASSERT_TRUE(email.KeysFor(**doc5, &keys).ok());
  const std::string id5 = engine::IdKey(**doc5);
  ASSERT_TRUE(db()->Delete(rocksdb::WriteOptions(), engine::IndexEntryKey(email, keys[0], id5)).ok());
  auto missing = c_->Validate();
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->valid());
  EXPECT_EQ(missing->missing_index_entries, 1);
  EXPECT_EQ(missing->invalid_indexes, std::vector<std::string>{"email_1"});
  EXPECT_EQ(missing->keys_per_index[1].second, 299);
  // Put it back, and add an entry no document has (a deleted document's).
  ASSERT_TRUE(db()->Put(rocksdb::WriteOptions(), engine::IndexEntryKey(email, keys[0], id5), id5).ok());
  ASSERT_TRUE(c_->Validate()->valid());
  auto ghost = J(R"({"_id": 1000, "email": "ghost@x"})");
  keys.clear();
  ASSERT_TRUE(email.KeysFor(ghost, &keys).ok());
  const std::string ghost_id = engine::IdKey(ghost);
  ASSERT_TRUE(db()->Put(rocksdb::WriteOptions(), engine::IndexEntryKey(email, keys[0], ghost_id), ghost_id).ok());
  auto extra = c_->Validate();
  ASSERT_TRUE(extra.ok());
  EXPECT_FALSE(extra->valid());
  EXPECT_EQ(extra->extra_index_entries, 1);
  EXPECT_EQ(extra->missing_index_entries, 0);
  // A document changed behind the index's back: its old key is extra, its new one missing.
  ASSERT_TRUE(db()->Delete(rocksdb::WriteOptions(), engine::IndexEntryKey(email, keys[0], ghost_id)).ok());
  bson_iter_t id;
  auto changed = J(R"({"_id": 7, "email": "changed@x", "n": 0, "tags": ["a"]})");
  changed.Find("_id", &id);
  std::string stored;
  ASSERT_TRUE(db()->Get(rocksdb::ReadOptions(), storage::RecordKey(entry.id, id), &stored).ok());
  const uint64_t sequence = storage::RecordSequence(stored);
  ASSERT_TRUE(db()->Put(rocksdb::WriteOptions(), storage::RecordKey(entry.id, id),
                        storage::EncodeRecordValue(changed.bytes(), sequence)).ok());
  auto wrong = c_->Validate();
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->valid());
  EXPECT_GE(wrong->missing_index_entries, 1);
  EXPECT_GE(wrong->extra_index_entries, 1);
  // A record that is not BSON.
  ASSERT_TRUE(db()->Put(rocksdb::WriteOptions(), storage::RecordKey(entry.id, id), "not bson").ok());
  auto corrupt = c_->Validate();
  ASSERT_TRUE(corrupt.ok());
  EXPECT_EQ(corrupt->invalid_documents, 1);
}

TEST_P(StatsTest, ValidateFindsMissingAndOrphanNaturalOrderEntries) {
  Fill();
  const storage::CollectionEntry& entry = Entry();
  ASSERT_TRUE(c_->Validate()->valid());
  bson_iter_t id;
  auto holder = J(R"({"_id": 42})");
  holder.Find("_id", &id);
  std::string stored;
  ASSERT_TRUE(db()->Get(rocksdb::ReadOptions(), storage::RecordKey(entry.id, id), &stored).ok());
  const std::string natural = storage::NaturalKey(entry.id, storage::RecordSequence(stored));
  std::string id_key;
  ASSERT_TRUE(db()->Get(rocksdb::ReadOptions(), natural, &id_key).ok());
  // A record without its entry: find() would never return it.
  ASSERT_TRUE(db()->Delete(rocksdb::WriteOptions(), natural).ok());
  auto missing = c_->Validate();
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->valid());
  EXPECT_EQ(missing->invalid_documents, 1);
  // An entry without its record (and the record's own entry back).
  ASSERT_TRUE(db()->Put(rocksdb::WriteOptions(), natural, id_key).ok());
  ASSERT_TRUE(c_->Validate()->valid());
  ASSERT_TRUE(db()->Put(rocksdb::WriteOptions(), storage::NaturalKey(entry.id, uint64_t{1} << 40), id_key).ok());
  auto orphan = c_->Validate();
  ASSERT_TRUE(orphan.ok());
  EXPECT_FALSE(orphan->valid());
  EXPECT_EQ(orphan->invalid_documents, 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, StatsTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
