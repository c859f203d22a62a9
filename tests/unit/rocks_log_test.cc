// storage::RocksLog: RocksDB's info log as Docket writes it. The point of it
// is what happens when the file cannot be written (a full or read-only file
// system): messages are dropped, nothing aborts.
#include "storage/rocks_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_util.h"

namespace docket::storage {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

TEST(RocksLogTest, AppendsTimestampedLines) {
  testing::TempDir dir;
  {
    auto log = RocksLog::Open(dir.path());
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, std::shared_ptr<rocksdb::Logger>(log), "flush %d of %s", 7,
                 "memtable");
    EXPECT_FALSE(log->failed());
  }
  auto log = RocksLog::Open(dir.path());  // appends: the earlier message stays
  rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, std::shared_ptr<rocksdb::Logger>(log), "second");
  const std::string text = ReadFile(dir.path() + "/LOG");
  EXPECT_NE(text.find(" flush 7 of memtable\n"), std::string::npos) << text;
  EXPECT_NE(text.find("second\n"), std::string::npos) << text;
  EXPECT_LT(text.find("flush 7"), text.find("second"));
  // "YYYY/MM/DD-HH:MM:SS.micros " starts each line.
  ASSERT_GE(text.size(), 27u);
  EXPECT_EQ(text[4], '/');
  EXPECT_EQ(text[10], '-');
  EXPECT_EQ(text[19], '.');
  EXPECT_EQ(text[26], ' ');
}

TEST(RocksLogTest, AnOversizedLogIsSetAsideOnOpen) {
  testing::TempDir dir;
  {
    std::ofstream big(dir.path() + "/LOG");
    big << std::string(RocksLog::kMaxBytes + 1, 'x');
  }
  auto log = RocksLog::Open(dir.path());
  rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, std::shared_ptr<rocksdb::Logger>(log), "fresh");
  EXPECT_EQ(std::filesystem::file_size(dir.path() + "/LOG.old"), RocksLog::kMaxBytes + 1);
  EXPECT_LT(std::filesystem::file_size(dir.path() + "/LOG"), 100u);
}

TEST(RocksLogTest, AFailedWriteDropsLaterMessagesInsteadOfAborting) {
  // /dev/full fails every write with ENOSPC, as a full disk does; RocksDB's
  // own logger asserts on the message after such a failure.
  testing::TempDir dir;
  std::filesystem::create_symlink("/dev/full", dir.path() + "/LOG");
  auto log = RocksLog::Open(dir.path());
  std::shared_ptr<rocksdb::Logger> as_logger = log;
  EXPECT_FALSE(log->failed());
  for (int i = 0; i < 100; ++i) rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, as_logger, "background error %d", i);
  EXPECT_TRUE(log->failed());
}

TEST(RocksLogTest, AnUnwritableDirectoryGivesADiscardingLog) {
  auto log = RocksLog::Open("/nonexistent-docket-dir/x");
  rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, std::shared_ptr<rocksdb::Logger>(log), "dropped");
  EXPECT_FALSE(std::filesystem::exists("/nonexistent-docket-dir"));
  auto discarding = RocksLog::Discarding();
  rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, std::shared_ptr<rocksdb::Logger>(discarding), "dropped");
  EXPECT_FALSE(discarding->failed());
}

}  // namespace
}  // namespace docket::storage
