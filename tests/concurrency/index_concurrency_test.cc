// Unique secondary indexes under real concurrent writers (also run under
// ThreadSanitizer in CI): the constraint holds under any interleaving, and
// the index always agrees with the documents.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::GetInt;
using testing::J;
using testing::Mode;

constexpr int kThreads = 16;
constexpr int kValues = 40;

class IndexConcurrencyTest : public EngineTest {
 protected:
  static std::string Email(int v) { return "\"u" + std::to_string(v) + "@x\""; }
  // Documents with this email, read through the index and by a full scan.
  void ExpectOneEach(Collection& c) {
    for (int v = 0; v < kValues; ++v) {
      auto via_index = c.CountDocuments(J("{\"email\": " + Email(v) + "}"));
      auto via_scan = c.CountDocuments(J("{\"$or\": [{\"email\": " + Email(v) + "}]}"));
      ASSERT_TRUE(via_index.ok() && via_scan.ok());
      EXPECT_EQ(*via_index, *via_scan) << "index and documents disagree for " << Email(v);
      EXPECT_LE(*via_scan, 1) << Email(v);
    }
  }
};

TEST_P(IndexConcurrencyTest, SixteenInsertersOneWinnerPerValue) {
  Collection c = engine_->collection("db", "users");
  ASSERT_TRUE(c.CreateIndex(J(R"({"email": 1})"), true).ok());
  std::atomic<int> inserted{0}, duplicates{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<int> order(kValues);
      for (int v = 0; v < kValues; ++v) order[v] = v;
      std::shuffle(order.begin(), order.end(), rng);
      for (int v : order) {
        auto r = c.InsertOne(J("{\"_id\": " + std::to_string(t * 1000 + v) + ", \"email\": " + Email(v) + "}"));
        if (r.ok()) inserted++;
        else if (r.status().code() == ErrorCode::kDuplicateKey) duplicates++;
        else other++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(inserted.load(), kValues);
  EXPECT_EQ(duplicates.load(), kThreads * kValues - kValues);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(*c.CountDocuments(Document()), kValues);
  ExpectOneEach(c);
}

TEST_P(IndexConcurrencyTest, UpdatersMovingValuesNeverShareOne) {
  Collection c = engine_->collection("db", "users");
  ASSERT_TRUE(c.CreateIndex(J(R"({"email": 1})"), true).ok());
  for (int d = 0; d < kValues / 2; ++d) {
    ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(d) + ", \"email\": " + Email(d) + "}")).ok());
  }
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      for (int i = 0; i < 100; ++i) {
        int doc = static_cast<int>(rng() % (kValues / 2)), value = static_cast<int>(rng() % kValues);
        auto r = c.UpdateOne(J("{\"_id\": " + std::to_string(doc) + "}"), J("{\"$set\": {\"email\": " + Email(value) + "}}"));
        if (!r.ok() && r.status().code() != ErrorCode::kDuplicateKey) other++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(*c.CountDocuments(Document()), kValues / 2);
  ExpectOneEach(c);
}

TEST_P(IndexConcurrencyTest, ConcurrentUpsertsOnAUniqueFieldMakeOneDocumentEach) {
  Collection c = engine_->collection("db", "tally");
  ASSERT_TRUE(c.CreateIndex(J(R"({"email": 1})"), true).ok());
  std::atomic<int> applied{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(200 + t);
      UpdateOptions upsert;
      upsert.upsert = true;
      for (int i = 0; i < 60; ++i) {
        int v = static_cast<int>(rng() % 8);
        auto r = c.UpdateOne(J("{\"email\": " + Email(v) + "}"), J(R"({"$inc": {"n": 1}})"), upsert);
        if (r.ok()) applied++;
        else other++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(other.load(), 0) << "upserts racing on a unique value retry as updates";
  auto docs = c.Find(Document())->ToVector();
  ASSERT_TRUE(docs.ok());
  EXPECT_LE(docs->size(), 8u);
  int64_t total = 0;
  for (const Document& d : *docs) total += GetInt(d, "n");
  EXPECT_EQ(total, applied.load()) << "every acknowledged $inc is counted exactly once";
  ExpectOneEach(c);
}

INSTANTIATE_TEST_SUITE_P(Modes, IndexConcurrencyTest, ::testing::Values(Mode::kMemory, Mode::kDisk),
                         testing::ModeName);

}  // namespace
}  // namespace docket
