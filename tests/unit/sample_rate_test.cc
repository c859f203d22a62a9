// $sampleRate keeps each document with the given probability, independently:
// over 20,000 documents the kept share stays within 6 standard deviations
// of the rate (a false failure has probability below 1e-8), and two runs do
// not keep the same documents.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "test_util.h"

namespace docket {
namespace {

using testing::J;

TEST(SampleRateTest, KeepsAboutTheRateAndDrawsAfresh) {
  testing::TempDir dir;
  auto engine = Engine::Open({.path = dir.path(), .in_memory = true});
  ASSERT_TRUE(engine.ok());
  Collection c = (*engine)->collection("t", "c");
  constexpr int kDocs = 20000;
  std::vector<Document> docs;
  for (int i = 0; i < kDocs; ++i) docs.push_back(J("{\"_id\": " + std::to_string(i) + "}"));
  ASSERT_TRUE(c.InsertMany(docs).ok());
  for (double rate : {0.05, 0.3, 0.9}) {
    std::vector<std::set<int64_t>> kept(2);
    for (auto& run : kept) {
      auto cursor = c.Find(J("{\"$sampleRate\": " + std::to_string(rate) + "}"));
      ASSERT_TRUE(cursor.ok());
      auto found = cursor->ToVector();
      ASSERT_TRUE(found.ok());
      for (int64_t id : testing::IdsOf(*found)) run.insert(id);
    }
    const double sd = std::sqrt(kDocs * rate * (1 - rate));
    for (const auto& run : kept) {
      EXPECT_NEAR(static_cast<double>(run.size()), kDocs * rate, 6 * sd) << rate;
    }
    EXPECT_NE(kept[0], kept[1]) << rate;
    auto counted = c.CountDocuments(J("{\"$sampleRate\": " + std::to_string(rate) + "}"));
    ASSERT_TRUE(counted.ok());
    EXPECT_NEAR(static_cast<double>(*counted), kDocs * rate, 6 * sd) << rate;
  }
}

}  // namespace
}  // namespace docket
