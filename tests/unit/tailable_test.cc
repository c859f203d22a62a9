// Tailable cursors on capped collections: they stay open at the end and
// return what was inserted since; AwaitData wakes on an insert's commit,
// times out, and can be cancelled; the position lost to the collection's
// limits ends the cursor with CappedPositionLost, a drop with
// QueryPlanKilled; MongoDB's refusals.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::IdsOf;
using testing::J;
using testing::Mode;

class TailableTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    CollectionOptions capped;
    capped.capped = true;
    capped.size = 1 << 20;
    capped.max = 3;
    ASSERT_TRUE(engine_->CreateCollection("db", "log", capped).ok());
  }
  Collection Log() { return engine_->collection("db", "log"); }
  void Insert(int64_t id, int v = 1) {
    ASSERT_TRUE(Log().InsertOne(J("{\"_id\": " + std::to_string(id) + ", \"v\": " + std::to_string(v) + "}")).ok());
  }
  static FindOptions Tail() {
    FindOptions options;
    options.tailable = true;
    return options;
  }
};

TEST_P(TailableTest, RefusalsAreMongoDbs) {
  Collection plain = engine_->collection("db", "plain");
  ASSERT_TRUE(plain.InsertOne(J(R"({"_id": 1})")).ok());
  auto not_capped = plain.Find(Document(), Tail());
  ASSERT_FALSE(not_capped.ok());
  EXPECT_EQ(not_capped.status().code(), ErrorCode::kBadValue);
  EXPECT_NE(not_capped.status().message().find("tailable cursor requested on non capped collection"), std::string::npos);
  FindOptions sorted = Tail();
  sorted.sort = J(R"({"v": 1})");
  EXPECT_EQ(Log().Find(Document(), sorted).status().code(), ErrorCode::kBadValue);
  sorted.sort = J(R"({"$natural": -1})");
  EXPECT_EQ(Log().Find(Document(), sorted).status().code(), ErrorCode::kBadValue);
  sorted.sort = J(R"({"$natural": 1})");
  EXPECT_TRUE(Log().Find(Document(), sorted).ok());
  FindOptions limited = Tail();
  limited.limit = 2;
  EXPECT_EQ(Log().Find(Document(), limited).status().code(), ErrorCode::kNotImplemented);
}

TEST_P(TailableTest, StaysOpenAndReturnsWhatWasInsertedSince) {
  Insert(1);
  Insert(2, 0);
  FindOptions options = Tail();
  auto cursor = Log().Find(J(R"({"v": 1})"), options);
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  EXPECT_TRUE(cursor->tailable());
  EXPECT_EQ(IdsOf(*cursor->NextBatch()), (std::vector<int64_t>{1}));
  EXPECT_FALSE(cursor->exhausted());
  EXPECT_TRUE(cursor->NextBatch()->empty());
  EXPECT_FALSE(cursor->exhausted());
  Insert(3);
  Insert(4, 0);
  EXPECT_EQ(IdsOf(*cursor->NextBatch()), (std::vector<int64_t>{3}));
  EXPECT_TRUE(cursor->NextBatch()->empty());
  EXPECT_FALSE(cursor->exhausted());
  // A tailable cursor on an empty collection stays open too.
  ASSERT_TRUE(engine_->CreateCollection("db", "empty", [] {
                CollectionOptions o;
                o.capped = true;
                o.size = 4096;
                return o;
              }()).ok());
  auto empty = engine_->collection("db", "empty").Find(Document(), Tail());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->NextBatch()->empty());
  EXPECT_FALSE(empty->exhausted());
  ASSERT_TRUE(engine_->collection("db", "empty").InsertOne(J(R"({"_id": 9})")).ok());
  EXPECT_EQ(IdsOf(*empty->NextBatch()), (std::vector<int64_t>{9}));
}

TEST_P(TailableTest, AwaitDataWakesOnAnInsertTimesOutAndCanBeCancelled) {
  Insert(1);
  auto cursor = Log().Find(Document(), Tail());
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(IdsOf(*cursor->NextBatch()), (std::vector<int64_t>{1}));
  EXPECT_TRUE(cursor->NextBatch()->empty());
  // Nothing inserted: it gives up at the limit.
  EXPECT_FALSE(cursor->AwaitData(std::chrono::milliseconds(100)));
  // Cancelled: it gives up at once, long before the limit.
  std::atomic<bool> cancel{true};
  EXPECT_FALSE(cursor->AwaitData(std::chrono::seconds(60), [&] { return cancel.load(); }));
  // An insert from another thread wakes it, long before the 60 s limit.
  std::thread writer([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Insert(2);
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(cursor->AwaitData(std::chrono::seconds(60)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  writer.join();
  EXPECT_EQ(IdsOf(*cursor->NextBatch()), (std::vector<int64_t>{2}));
}

TEST_P(TailableTest, ALostPositionOrADropEndsTheCursor) {
  Insert(1);
  Insert(2);
  auto cursor = Log().Find(Document(), Tail());
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(IdsOf(*cursor->NextBatch()), (std::vector<int64_t>{1, 2}));
  // max 3: inserting 3, 4 and 5 removes 1 and 2, the cursor's position.
  Insert(3);
  Insert(4);
  Insert(5);
  auto lost = cursor->NextBatch();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), ErrorCode::kCappedPositionLost);
  EXPECT_TRUE(cursor->exhausted());

  auto dropped = Log().Find(Document(), Tail());
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(IdsOf(*dropped->NextBatch()), (std::vector<int64_t>{3, 4, 5}));
  ASSERT_TRUE(engine_->DropCollection("db", "log").ok());
  auto gone = dropped->NextBatch();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), ErrorCode::kQueryPlanKilled);
}

INSTANTIATE_TEST_SUITE_P(Modes, TailableTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
