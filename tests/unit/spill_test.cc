// Sorts past the memory budget: with a budget of a few KiB, a sort that no
// index gives spills to temporary storage and still returns every document in
// MongoDB's order; with allow_disk_use=false it fails with 292 instead.
#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "bson/value.h"
#include "storage/keys.h"
#include "test_util.h"

namespace docket {
namespace {

using testing::J;
using testing::Mode;

class SpillTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.path = dir_.path();
    options.in_memory = GetParam() == Mode::kMemory;
    options.query_memory_limit_bytes = 16 << 10;
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }
  testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

// Values of several types, with repeats, as {"v": ...}.
std::string RandomValueJson(std::mt19937& rng) {
  switch (rng() % 6) {
    case 0: return std::to_string(static_cast<int>(rng() % 500) - 250);
    case 1: return std::to_string(static_cast<int>(rng() % 100)) + ".5";
    case 2: return "\"s" + std::to_string(rng() % 300) + "\"";
    case 3: return "null";
    case 4: return "[" + std::to_string(rng() % 50) + ", " + std::to_string(rng() % 50) + "]";
    default: return "{\"x\": " + std::to_string(rng() % 20) + "}";
  }
}

TEST_P(SpillTest, UnindexedSortPastTheBudgetSpillsAndStaysOrdered) {
  Collection c = engine_->collection("db", "c");
  std::mt19937 rng(7);
  std::vector<Document> docs;
  for (int i = 0; i < 3000; ++i) {
    docs.push_back(J("{\"_id\": " + std::to_string(i) + ", \"v\": " + RandomValueJson(rng) +
                     ", \"pad\": \"" + std::string(40, 'x') + "\"}"));
  }
  ASSERT_TRUE(c.InsertMany(docs).ok());

  for (int direction : {1, -1}) {
    FindOptions options;
    options.sort = J("{\"v\": " + std::to_string(direction) + ", \"_id\": 1}");
    options.batch_size = 100;
    auto cursor = c.Find(Document(), options);
    ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
    auto sorted = cursor->ToVector();
    ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
    ASSERT_EQ(sorted->size(), docs.size());

    // Every document once, each adjacent pair in order by the same spec.
    std::vector<int64_t> ids;
    for (const Document& d : *sorted) ids.push_back(testing::GetInt(d, "_id"));
    std::vector<int64_t> unique_ids = ids;
    std::sort(unique_ids.begin(), unique_ids.end());
    EXPECT_TRUE(std::adjacent_find(unique_ids.begin(), unique_ids.end()) == unique_ids.end());
    // Compare with an in-memory sort of the same documents done here.
    std::vector<Document> expected = docs;
    auto key = [&](const Document& d) {
      // MongoDB's sort key of v: min element ascending, max descending; arrays only here.
      bson_iter_t it;
      d.Find("v", &it);
      if (!BSON_ITER_HOLDS_ARRAY(&it)) return bson::HoldValue(it);
      bson_iter_t child, best;
      bson_iter_recurse(&it, &child);
      bool have = false;
      while (bson_iter_next(&child)) {
        if (!have || (direction > 0 ? bson::CompareValues(child, best) < 0 : bson::CompareValues(child, best) > 0)) {
          best = child;
          have = true;
        }
      }
      return bson::HoldValue(best);
    };
    std::stable_sort(expected.begin(), expected.end(), [&](const Document& a, const Document& b) {
      std::string ka = key(a), kb = key(b);
      bson_iter_t x, y;
      bson::IterHeldValue(ka, &x);
      bson::IterHeldValue(kb, &y);
      int cmp = bson::CompareValues(x, y) * direction;
      if (cmp != 0) return cmp < 0;
      return testing::GetInt(a, "_id") < testing::GetInt(b, "_id");
    });
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(testing::GetInt(expected[i], "_id"), ids[i]) << "position " << i << " direction " << direction;
    }
  }
}

TEST_P(SpillTest, WithoutDiskUseTheBudgetIsAnError) {
  Collection c = engine_->collection("db", "c");
  std::vector<Document> docs;
  for (int i = 0; i < 1000; ++i) docs.push_back(J("{\"_id\": " + std::to_string(i) + ", \"pad\": \"" + std::string(64, 'y') + "\"}"));
  ASSERT_TRUE(c.InsertMany(docs).ok());
  FindOptions options;
  options.sort = J(R"({"pad": 1, "_id": -1})");
  options.allow_disk_use = false;
  auto cursor = c.Find(Document(), options);
  ASSERT_FALSE(cursor.ok());
  EXPECT_EQ(cursor.status().code(), ErrorCode::kQueryExceededMemoryLimitNoDiskUseAllowed);
  // A limit bounds the sort instead: top-k needs no disk.
  options.limit = 5;
  auto top = c.Find(Document(), options);
  ASSERT_TRUE(top.ok()) << top.status().ToString();
  auto five = top->ToVector();
  ASSERT_TRUE(five.ok());
  ASSERT_EQ(five->size(), 5u);
  EXPECT_EQ(testing::GetInt((*five)[0], "_id"), 999);
  EXPECT_EQ(testing::GetInt((*five)[4], "_id"), 995);
}

// Opening an engine deletes what a crash left in the spill area, and only
// then: reopening a clean database leaves no trace (a range deletion at every
// open piled up one tombstone-only table file per open, which every later
// read of those files consulted).
TEST(SpillCleanupTest, OpenDeletesLeftoverSpillsAndLeavesACleanDatabaseAlone) {
  testing::TempDir dir;
  auto count_tables = [&] {
    int n = 0;
    for (const auto& file : std::filesystem::directory_iterator(dir.path())) n += file.path().extension() == ".sst";
    return n;
  };
  {
    auto engine = Engine::Open({.path = dir.path()});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    ASSERT_TRUE((*engine)->collection("db", "c").InsertOne(J(R"({"_id": 1})")).ok());
    ASSERT_TRUE((*engine)->Compact().ok());
  }
  const int tables = count_tables();
  for (int i = 0; i < 5; ++i) {
    auto engine = Engine::Open({.path = dir.path()});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  }
  EXPECT_EQ(count_tables(), tables) << "reopening a clean database wrote table files";
  // A crash's leftover: a spill row written straight into the store.
  const std::string leftover = std::string(1, storage::kSpillPrefix) + "left over";
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir.path(), &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), leftover, "row").ok());
    delete raw;
  }
  {
    auto engine = Engine::Open({.path = dir.path()});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    auto found = (*engine)->collection("db", "c").FindOne(J(R"({"_id": 1})"));
    ASSERT_TRUE(found.ok() && found->has_value()) << "the data is still there";
  }
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir.path(), &raw).ok());
  std::string value;
  EXPECT_TRUE(raw->Get(rocksdb::ReadOptions(), leftover, &value).IsNotFound()) << "the leftover spill row survived";
  delete raw;
}

INSTANTIATE_TEST_SUITE_P(Modes, SpillTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
