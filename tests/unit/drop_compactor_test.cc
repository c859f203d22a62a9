// DropCompactor: clean-ups start on its own thread once the deleted keys or
// bytes pass a threshold, cover the hull of the deleted ranges per key kind,
// and shutdown cancels one under way. And through the engine: dropped
// collections of either size (deleted key by key, or by one range tombstone)
// leave nothing behind.
#include "storage/drop_compactor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/store.h"
#include "test_util.h"

namespace docket {
namespace {

using Spans = std::vector<std::pair<std::string, std::string>>;
using storage::DropCompactor;
using testing::EngineTest;
using testing::J;

// Records what each clean-up was given; lets a test wait for them.
struct Recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Spans> calls;

  DropCompactor::Clean Clean() {
    return [this](const Spans& spans) {
      std::lock_guard lock(mutex);
      calls.push_back(spans);
      changed.notify_all();
      return Status::OK();
    };
  }
  bool WaitForCalls(size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return calls.size() >= n; });
  }
};

TEST(DropCompactorTest, NothingHappensBelowTheThresholds) {
  Recorder recorder;
  {
    DropCompactor compactor(10, 1000, recorder.Clean(), [] {});
    compactor.Note("\x02" "a", "\x02" "b", 9, 999);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(compactor.cleanups(), 0u);
  }
  EXPECT_TRUE(recorder.calls.empty());
}

TEST(DropCompactorTest, EnoughKeysCleanTheHullOfEachKeyKind) {
  Recorder recorder;
  DropCompactor compactor(10, 1 << 30, recorder.Clean(), [] {});
  compactor.Note("\x02" "m", "\x02" "n", 4, 10);
  compactor.Note("\x03" "x", "\x03" "y", 3, 10);
  compactor.Note("\x02" "c", "\x02" "d", 3, 10);  // the tenth key: due
  ASSERT_TRUE(recorder.WaitForCalls(1));
  std::lock_guard lock(recorder.mutex);
  const Spans expected = {{"\x02" "c", "\x02" "n"}, {"\x03" "x", "\x03" "y"}};
  EXPECT_EQ(recorder.calls.front(), expected);
}

TEST(DropCompactorTest, EnoughBytesAloneMakeItDueAndCountsStartAgain) {
  Recorder recorder;
  DropCompactor compactor(1000, 100, recorder.Clean(), [] {});
  compactor.Note("\x02" "a", "\x02" "b", 1, 100);
  ASSERT_TRUE(recorder.WaitForCalls(1));
  // One report of any size makes one clean-up, not several.
  compactor.Note("\x02" "e", "\x02" "f", UINT64_MAX, UINT64_MAX);
  ASSERT_TRUE(recorder.WaitForCalls(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard lock(recorder.mutex);
  ASSERT_EQ(recorder.calls.size(), 2u);
  EXPECT_EQ(recorder.calls[1], (Spans{{"\x02" "e", "\x02" "f"}}));  // only what came after the first
}

TEST(DropCompactorTest, ShutdownCancelsACleanUpUnderWay) {
  std::atomic<bool> cancelled{false};
  std::atomic<bool> started{false};
  auto compactor = std::make_unique<DropCompactor>(
      1, 1,
      [&](const Spans&) {
        started = true;
        while (!cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return Status(ErrorCode::kInternalError, "cancelled");
      },
      [&] { cancelled = true; });
  compactor->Note("\x02" "a", "\x02" "b", 1, 1);
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  compactor.reset();  // returns only because cancel() ended the clean-up
  EXPECT_TRUE(cancelled);
}

class DropCleanupTest : public EngineTest {};

// A small collection is deleted key by key, a large one (more than
// Store::kPointDeleteLimit keys) by a range tombstone: either way its records
// and index entries are gone, and a new collection of the same name starts
// empty and unique-indexed afresh.
TEST_P(DropCleanupTest, DroppedCollectionsOfEitherSizeLeaveNothing) {
  for (int docs : {3, static_cast<int>(storage::Store::kPointDeleteLimit) + 200}) {
    Collection c = engine_->collection("db", "c");
    ASSERT_TRUE(c.CreateIndex(J(R"({"k": 1})"), /*unique=*/true).ok());
    std::vector<Document> batch;
    for (int i = 0; i < docs; ++i) batch.push_back(J("{\"_id\": " + std::to_string(i) + ", \"k\": " + std::to_string(i) + "}"));
    ASSERT_TRUE(c.InsertMany(batch).ok());
    ASSERT_TRUE(engine_->DropCollection("db", "c").ok());
    EXPECT_EQ(*c.CountDocuments(Document()), 0);
    ASSERT_TRUE(c.CreateIndex(J(R"({"k": 1})"), /*unique=*/true).ok());
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": 0, "k": 0})")).ok()) << "an index entry of the dropped collection survived";
    EXPECT_EQ(*c.CountDocuments(Document()), 1);
    auto found = c.Find(J(R"({"k": {"$gte": 0}})"));
    ASSERT_TRUE(found.ok());
    ASSERT_TRUE(engine_->DropCollection("db", "c").ok());
  }
  if (GetParam() == testing::Mode::kDisk) Reopen();
  EXPECT_EQ(*engine_->collection("db", "c").CountDocuments(Document()), 0);
}

// Thousands of drops (enough for several clean-ups to run in the background
// while writers go on) lose nothing of the collections that stay.
TEST_P(DropCleanupTest, CleanUpsWhileCollectionsComeAndGoKeepTheLiveOnes) {
  Collection kept = engine_->collection("db", "kept");
  for (int i = 0; i < 1500; ++i) {
    Collection c = engine_->collection("db", "t" + std::to_string(i));
    ASSERT_TRUE(c.InsertMany({J(R"({"a": 1})"), J(R"({"a": 2})"), J(R"({"a": 3})")}).ok());
    ASSERT_TRUE(kept.InsertOne(J("{\"_id\": " + std::to_string(i) + "}")).ok());
    ASSERT_TRUE(engine_->DropCollection("db", "t" + std::to_string(i)).ok());
  }
  EXPECT_EQ(*kept.CountDocuments(Document()), 1500);
  EXPECT_EQ(engine_->ListCollections("db").size(), 1u);
  if (GetParam() == testing::Mode::kDisk) Reopen();
  EXPECT_EQ(*engine_->collection("db", "kept").CountDocuments(Document()), 1500);
}

INSTANTIATE_TEST_SUITE_P(Modes, DropCleanupTest, ::testing::Values(testing::Mode::kMemory, testing::Mode::kDisk),
                         testing::ModeName);

}  // namespace
}  // namespace docket
