// docket::DeadlineScope (docket/deadline.h): the engine's reads stop with
// MaxTimeMSExpired (50) once the calling thread's deadline has passed; the
// deadline belongs to the thread and the block that set it.
#include "docket/deadline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using Clock = std::chrono::steady_clock;
using testing::J;

class DeadlineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Engine::Open({.in_memory = true});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
    std::vector<Document> docs;
    for (int i = 0; i < 100; ++i) docs.push_back(J(R"({"n": )" + std::to_string(i) + "}"));
    ASSERT_TRUE(engine_->collection("db", "c").InsertMany(docs).ok());
  }
  Collection c() { return engine_->collection("db", "c"); }
  std::unique_ptr<Engine> engine_;
};

ErrorCode FindCode(Collection c) {
  auto cursor = c.Find(J(R"({"n": {"$gte": 50}})"));
  if (!cursor.ok()) return cursor.status().code();
  auto all = cursor->ToVector();
  return all.ok() ? ErrorCode::kOk : all.status().code();
}

TEST_F(DeadlineTest, NoDeadlineNoLimit) {
  EXPECT_TRUE(CheckDeadline().ok());
  EXPECT_EQ(FindCode(c()), ErrorCode::kOk);
}

TEST_F(DeadlineTest, APassedDeadlineStopsEveryKindOfRead) {
  DeadlineScope scope(Clock::now() - std::chrono::milliseconds(1));
  EXPECT_EQ(CheckDeadline().code(), ErrorCode::kMaxTimeMSExpired);
  EXPECT_EQ(FindCode(c()), ErrorCode::kMaxTimeMSExpired);
  auto count = c().CountDocuments(J(R"({"n": {"$gte": 50}})"));
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), ErrorCode::kMaxTimeMSExpired);
  auto aggregate = c().Aggregate({J(R"({"$match": {"n": {"$gte": 50}}})"), J(R"({"$group": {"_id": null}})")});
  Status aggregated = aggregate.ok() ? aggregate->ToVector().status() : aggregate.status();
  EXPECT_EQ(aggregated.code(), ErrorCode::kMaxTimeMSExpired);
  auto updated = c().UpdateMany(J(R"({"n": {"$gte": 50}})"), J(R"({"$set": {"x": 1}})"));
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), ErrorCode::kMaxTimeMSExpired);
}

TEST_F(DeadlineTest, AFutureDeadlineLetsWorkFinish) {
  DeadlineScope scope(Clock::now() + std::chrono::minutes(5));
  EXPECT_EQ(FindCode(c()), ErrorCode::kOk);
}

TEST_F(DeadlineTest, ScopesNestAndTheEarlierDeadlineWins) {
  {
    DeadlineScope outer(Clock::now() - std::chrono::milliseconds(1));
    {
      DeadlineScope inner(Clock::now() + std::chrono::minutes(5));
      EXPECT_EQ(CheckDeadline().code(), ErrorCode::kMaxTimeMSExpired);
    }
    EXPECT_EQ(CheckDeadline().code(), ErrorCode::kMaxTimeMSExpired);
  }
  EXPECT_TRUE(CheckDeadline().ok());
  {
    DeadlineScope outer(Clock::now() + std::chrono::minutes(5));
    {
      DeadlineScope inner(Clock::now() - std::chrono::milliseconds(1));
      EXPECT_EQ(CheckDeadline().code(), ErrorCode::kMaxTimeMSExpired);
    }
    EXPECT_TRUE(CheckDeadline().ok());  // the outer one is back
  }
}

TEST_F(DeadlineTest, TheDeadlineBelongsToItsThread) {
  DeadlineScope scope(Clock::now() - std::chrono::milliseconds(1));
  ErrorCode other = ErrorCode::kInternalError;
  std::thread reader([&] { other = FindCode(c()); });
  reader.join();
  EXPECT_EQ(other, ErrorCode::kOk);
  EXPECT_EQ(FindCode(c()), ErrorCode::kMaxTimeMSExpired);
}

TEST_F(DeadlineTest, AnInterruptFromAnotherThreadStopsTheWork) {
  std::atomic<bool> killed{false};
  InterruptScope scope(&killed);
  EXPECT_TRUE(CheckDeadline().ok());
  EXPECT_EQ(FindCode(c()), ErrorCode::kOk);
  std::thread killer([&] { killed.store(true); });
  killer.join();
  EXPECT_EQ(CheckDeadline().code(), ErrorCode::kInterrupted);
  EXPECT_EQ(FindCode(c()), ErrorCode::kInterrupted);
  {
    std::atomic<bool> fresh{false};
    InterruptScope inner(&fresh);
    EXPECT_TRUE(CheckDeadline().ok());  // the inner flag decides while it lives
  }
  EXPECT_EQ(CheckDeadline().code(), ErrorCode::kInterrupted);  // the outer one is back
}

}  // namespace
}  // namespace docket
