// Helpers shared by the tests: engines in memory or in a fresh temporary
// directory, and terse document construction.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "docket/engine.h"

namespace docket::testing {

inline Document J(const std::string& json) {
  auto doc = Document::FromJson(json);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString() << " in " << json;
  return doc.ok() ? *doc : Document();
}

inline int64_t GetInt(const Document& doc, const char* field) {
  bson_iter_t it;
  return doc.Find(field, &it) ? bson_iter_as_int64(&it) : -1;
}

// The documents' _id values, as integers.
inline std::vector<int64_t> IdsOf(const std::vector<Document>& docs) {
  std::vector<int64_t> out;
  for (const Document& d : docs) {
    bson_iter_t id;
    EXPECT_TRUE(d.Find("_id", &id));
    out.push_back(bson_iter_as_int64(&id));
  }
  return out;
}

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("docket-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

enum class Mode { kMemory, kDisk };

inline std::string ModeName(const ::testing::TestParamInfo<Mode>& info) {
  return info.param == Mode::kMemory ? "Memory" : "Disk";
}

// Base fixture: one engine per test, in memory or on disk per the parameter.
class EngineTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    engine_.reset();
    if (GetParam() == Mode::kMemory) {
      if (memory_engine_opened_) GTEST_SKIP() << "an in-memory database does not survive reopening";
      memory_engine_opened_ = true;
    }
    auto opened = Engine::Open({.path = dir_.path(), .in_memory = GetParam() == Mode::kMemory});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }
  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  bool memory_engine_opened_ = false;
};

}  // namespace docket::testing
