// Engine::Checkpoint, the hot backup of the embedded engine: the copy opens
// as a database of its own holding exactly what was committed before it,
// while a writer thread goes on; in memory and onto an existing directory it
// is refused.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using testing::EngineTest;
using testing::J;
using testing::Mode;

class CheckpointTest : public EngineTest {};

TEST_P(CheckpointTest, CopyHoldsWhatWasCommittedBeforeIt) {
  if (GetParam() == Mode::kMemory) {
    testing::TempDir target;
    EXPECT_EQ(engine_->Checkpoint(target.path() + "/copy").code(), ErrorCode::kIllegalOperation);
    return;
  }
  Collection c = engine_->collection("db", "c");
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(i) + "}")).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> written{100};
  std::thread writer([&] {
    while (!stop) {
      const int id = written.load();
      ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(id) + "}")).ok());
      written = id + 1;
    }
  });
  testing::TempDir target;
  const std::string copy = target.path() + "/copy";
  const int before = written.load();
  Status s = engine_->Checkpoint(copy);
  const int after = written.load();
  stop = true;
  writer.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(engine_->Checkpoint(copy).code(), ErrorCode::kBadValue);  // exists now
  auto opened = Engine::Open({.path = copy});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Collection restored = (*opened)->collection("db", "c");
  const int64_t n = restored.CountDocuments(J("{}")).value();
  EXPECT_GE(n, before);
  EXPECT_LE(n, after + 1);  // the insert in flight may have committed first
  // No gaps: the copy is a prefix of the writer's sequence.
  EXPECT_EQ(restored.CountDocuments(J("{\"_id\": {\"$lt\": " + std::to_string(n) + "}}")).value(), n);
  ASSERT_TRUE(restored.InsertOne(J(R"({"_id": "new"})")).ok());
  EXPECT_EQ(c.CountDocuments(J(R"({"_id": "new"})")).value(), 0);  // separate databases
}

INSTANTIATE_TEST_SUITE_P(Modes, CheckpointTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
