// Durability: a child writing is killed with SIGKILL at random moments; after
// each reopen every acknowledged write is there, intact, and the counter is
// at least the last acknowledged value. With j:true that is what the fsync
// buys; with the default j:false it holds because every commit is in the
// operating system's hands (the WAL write) before it is acknowledged, so a
// killed process loses nothing (a power cut may: that is what j:true is for).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <map>
#include <set>
#include <thread>

#include "test_util.h"

namespace docket {
namespace {

using testing::GetInt;
using testing::J;

// Runs the writer for `millis`, kills it, returns the acknowledged values.
std::vector<int64_t> RunAndKill(const std::string& dir, const char* mode, int millis) {
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(DOCKET_CRASH_WRITER, DOCKET_CRASH_WRITER, dir.c_str(), mode, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::this_thread::sleep_for(std::chrono::milliseconds(millis));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  std::string text;
  char buf[4096];
  ssize_t got;
  while ((got = read(out[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(got));
  close(out[0]);
  std::vector<int64_t> acked;
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;  // a partial last line was not acknowledged
    acked.push_back(std::stoll(text.substr(start, nl - start)));
    start = nl + 1;
  }
  EXPECT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself (status " << status << ")";
  return acked;
}

class CrashTest : public ::testing::TestWithParam<const char*> {};

TEST_P(CrashTest, AcknowledgedWritesSurviveSigkill) {
  testing::TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::set<int64_t> all_acked;
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<int64_t> acked = RunAndKill(dir.path(), GetParam(), 150 + static_cast<int>(rng() % 350));
    all_acked.insert(acked.begin(), acked.end());
    auto engine = Engine::Open({.path = dir.path(), .in_memory = false});
    ASSERT_TRUE(engine.ok()) << "round " << round << ": " << engine.status().ToString();
    // One scan of what survived, then every acknowledged item looked up in it.
    std::map<int64_t, std::string> stored;
    auto cursor = (*engine)->collection("crash", "items").Find(J("{}"));
    ASSERT_TRUE(cursor.ok());
    auto docs = cursor->ToVector();
    ASSERT_TRUE(docs.ok()) << docs.status().ToString();
    for (const Document& doc : *docs) {
      bson_iter_t it;
      ASSERT_TRUE(doc.Find("payload", &it) && BSON_ITER_HOLDS_UTF8(&it)) << doc.ToJson();
      stored[GetInt(doc, "_id")] = bson_iter_utf8(&it, nullptr);
    }
    for (int64_t n : all_acked) {
      auto found = stored.find(n);
      ASSERT_TRUE(found != stored.end()) << "round " << round << ": acknowledged item " << n << " is missing";
      std::string expected = "item-" + std::to_string(n) + "-" + std::string(static_cast<size_t>(n % 200), 'x');
      ASSERT_EQ(found->second, expected) << "item " << n << " is damaged";
    }
    if (!all_acked.empty()) {
      auto counter = (*engine)->collection("crash", "counters").FindOne(J(R"({"_id": "items"})"));
      ASSERT_TRUE(counter.ok() && *counter);
      EXPECT_GE(GetInt(**counter, "n"), *all_acked.rbegin()) << "round " << round;
    }
  }
  EXPECT_GT(all_acked.size(), 20u) << "the writer acknowledged almost nothing: the test proves little";
  std::cout << "[ crash ] " << GetParam() << ": " << kRounds << " SIGKILL rounds, " << all_acked.size()
            << " acknowledged writes verified\n";
}

INSTANTIATE_TEST_SUITE_P(WriteConcern, CrashTest, ::testing::Values("journal", "nojournal"));

}  // namespace
}  // namespace docket
