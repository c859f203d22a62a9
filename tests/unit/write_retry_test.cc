// The engine's retry loops: a write retries only when something changed since
// its attempt began, never spins on a condition that cannot change, and never
// makes work on other collections wait.
//
// The time bounds below detect hangs (the defect they guard against took 60 s);
// they are an order of magnitude above what the operations take on a loaded
// machine and say nothing about speed.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::GetInt;
using testing::J;
using testing::Mode;
using Clock = std::chrono::steady_clock;

constexpr auto kHangBound = std::chrono::seconds(10);

class WriteRetryTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    c_ = std::make_unique<Collection>(engine_->collection("db", "c"));
    ASSERT_TRUE(c_->InsertOne(J(R"({"_id": 1, "a": 1, "version": 1})")).ok());
  }
  // Runs `op`, expecting it to finish well within kHangBound.
  template <typename F>
  auto Prompt(F op) {
    const auto start = Clock::now();
    auto result = op();
    EXPECT_LT(Clock::now() - start, kHangBound) << "the operation took as long as a hang";
    return result;
  }
  std::unique_ptr<Collection> c_;
};

// The optimistic-concurrency pattern of every ODM: an _id plus a condition the
// document no longer meets matches nothing, at once.
TEST_P(WriteRetryTest, IdPlusUnmetConditionMatchesNothingAtOnce) {
  const Document stale = J(R"({"_id": 1, "version": 3})");
  auto updated = Prompt([&] { return c_->UpdateOne(stale, J(R"({"$set": {"b": 1}})")); });
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->matched_count, 0);
  EXPECT_EQ(updated->modified_count, 0);

  auto replaced = Prompt([&] { return c_->ReplaceOne(stale, J(R"({"b": 2})")); });
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(replaced->matched_count, 0);

  auto deleted = Prompt([&] { return c_->DeleteOne(stale); });
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->deleted_count, 0);

  auto found = Prompt([&] { return c_->FindOneAndUpdate(stale, J(R"({"$inc": {"version": 1}})")); });
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_FALSE(found->has_value());

  auto removed = Prompt([&] { return c_->FindOneAndDelete(stale); });
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_FALSE(removed->has_value());

  // Nothing was changed by any of them.
  auto doc = c_->FindOne(J(R"({"_id": 1})"));
  ASSERT_TRUE(doc.ok() && doc->has_value());
  EXPECT_EQ(GetInt(**doc, "version"), 1);
  EXPECT_EQ(GetInt(**doc, "b"), -1);

  // The matching version still updates.
  auto current = Prompt([&] { return c_->UpdateOne(J(R"({"_id": 1, "version": 1})"), J(R"({"$inc": {"version": 1}})")); });
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->modified_count, 1);
}

// An upsert whose _id exists but whose other conditions do not hold would
// insert a second document with that _id: DuplicateKey, as in MongoDB, at once.
TEST_P(WriteRetryTest, UpsertOfAnExistingIdWithUnmetConditionIsADuplicateAtOnce) {
  UpdateOptions upsert;
  upsert.upsert = true;
  auto updated = Prompt([&] { return c_->UpdateOne(J(R"({"_id": 1, "a": 2})"), J(R"({"$set": {"b": 1}})"), upsert); });
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), ErrorCode::kDuplicateKey);

  FindAndModifyOptions fam;
  fam.upsert = true;
  auto found = Prompt([&] { return c_->FindOneAndUpdate(J(R"({"_id": 1, "a": 2})"), J(R"({"$set": {"b": 1}})"), fam); });
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(*c_->CountDocuments(Document()), 1);
}

// A drop that waits for a collection's in-flight write must not make
// operations on other collections wait with it.
TEST_P(WriteRetryTest, AWaitingDropDoesNotStallOtherCollections) {
  Collection other = engine_->collection("otherdb", "o");
  ASSERT_TRUE(other.InsertOne(J(R"({"_id": 1})")).ok());
  // A transaction holds the document's lock; a plain update of it waits
  // (holding its collection in use), and a drop of the collection waits for it.
  auto txn = engine_->BeginTransaction();
  ASSERT_TRUE(txn.ok());
  WriteOptions in_txn;
  in_txn.transaction = txn->get();
  UpdateOptions txn_update;
  txn_update.write = in_txn;
  ASSERT_TRUE(c_->UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"t": 1}})"), txn_update).ok());
  auto writer = std::async(std::launch::async, [&] { return c_->UpdateOne(J(R"({"_id": 1})"), J(R"({"$inc": {"a": 1}})")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto dropper = std::async(std::launch::async, [&] { return engine_->DropCollection("db", "c"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(dropper.wait_for(std::chrono::seconds(0)), std::future_status::timeout) << "the drop did not wait";

  // Meanwhile: reads and writes elsewhere, and the catalog, answer at once.
  auto read = Prompt([&] { return other.FindOne(J(R"({"_id": 1})")); });
  ASSERT_TRUE(read.ok() && read->has_value());
  auto write = Prompt([&] { return engine_->collection("thirddb", "t").InsertOne(J(R"({"_id": 1})")); });
  EXPECT_TRUE(write.ok());
  auto names = Prompt([&] { return engine_->ListDatabases(); });
  EXPECT_FALSE(names.empty());

  (*txn)->Abort();
  auto written = writer.get();
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->modified_count, 1);
  EXPECT_TRUE(dropper.get().ok());
  EXPECT_TRUE(engine_->ListCollections("db").empty());
}

INSTANTIATE_TEST_SUITE_P(Modes, WriteRetryTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket

namespace docket {
namespace {

// A plain write blocked by a transaction waits at most write_wait_seconds,
// and proceeds the moment that transaction ends.
TEST(WriteWaitTest, ABlockedWriteWaitsForTheTransactionUpToItsLimit) {
  for (int wait_seconds : {1, 10}) {
    auto engine = Engine::Open({.in_memory = true, .write_wait_seconds = wait_seconds});
    ASSERT_TRUE(engine.ok());
    Collection c = (*engine)->collection("db", "c");
    ASSERT_TRUE(c.InsertOne(testing::J(R"({"_id": 1, "n": 0})")).ok());
    auto txn = (*engine)->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    UpdateOptions in_txn;
    in_txn.write.transaction = txn->get();
    ASSERT_TRUE(c.UpdateOne(testing::J(R"({"_id": 1})"), testing::J(R"({"$inc": {"n": 10}})"), in_txn).ok());
    const auto start = Clock::now();
    auto writer = std::async(std::launch::async, [&] {
      return c.UpdateOne(testing::J(R"({"_id": 1})"), testing::J(R"({"$inc": {"n": 1}})"));
    });
    if (wait_seconds == 1) {
      auto result = writer.get();  // the transaction outlives the wait
      EXPECT_EQ(result.status().code(), ErrorCode::kWriteConflict);
      EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
      (*txn)->Abort();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      (*txn)->Abort();  // as a server's reaper aborts an abandoned one
      auto result = writer.get();
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      EXPECT_EQ(result->modified_count, 1);
      EXPECT_LT(Clock::now() - start, std::chrono::seconds(5)) << "did not wake when the transaction ended";
      EXPECT_EQ(testing::GetInt(**c.FindOne(testing::J(R"({"_id": 1})")), "n"), 1);
    }
  }
}

}  // namespace
}  // namespace docket
