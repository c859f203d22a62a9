// PointCache (storage/point_cache.h): the snapshot rule, the write marks and
// CLOCK eviction, on the cache alone; tests/unit/engine_test.cc's
// RowCacheTest runs it under concurrent transfers through the engine.
#include "storage/point_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace docket::storage {
namespace {

// One commit of `keys` at sequence `seq`, bracketed as Store brackets one.
void Commit(PointCache& cache, const std::vector<std::string>& keys, uint64_t seq) {
  PointCache::WriteMark mark;
  for (const std::string& k : keys) cache.AddKey(&mark, k);
  cache.BeginWrite(&mark);
  cache.EndWrite(mark, seq);
}

TEST(PointCacheTest, ServesWhatWasInsertedAndNothingElse) {
  PointCache cache(1 << 20);
  std::string value;
  EXPECT_FALSE(cache.Lookup("a", 5, &value));
  cache.Insert("a", 5, "alpha");
  ASSERT_TRUE(cache.Lookup("a", 5, &value));
  EXPECT_EQ(value, "alpha");
  ASSERT_TRUE(cache.Lookup("a", 9, &value)) << "nothing was written since: a later snapshot sees the same row";
  EXPECT_FALSE(cache.Lookup("ab", 5, &value));
  EXPECT_FALSE(cache.Lookup("", 5, &value));
  EXPECT_GT(cache.usage(), 0u);
}

TEST(PointCacheTest, AWriteHidesTheRowFromSnapshotsOnEitherSide) {
  PointCache cache(1 << 20);
  std::string value;
  cache.Insert("k", 10, "old");
  PointCache::WriteMark mark;
  cache.AddKey(&mark, "k");
  cache.BeginWrite(&mark);
  EXPECT_FALSE(cache.Lookup("k", 10, &value)) << "a commit under way may publish at any moment";
  cache.EndWrite(mark, 11);
  EXPECT_FALSE(cache.Lookup("k", 12, &value)) << "a snapshot after the commit must not see the row read before it";
  // The row as read after the commit: an older snapshot must not see it.
  cache.Insert("k", 12, "new");
  ASSERT_TRUE(cache.Lookup("k", 12, &value));
  EXPECT_EQ(value, "new");
  EXPECT_FALSE(cache.Lookup("k", 10, &value)) << "a snapshot before the commit must not see the row read after it";
  // An older read does not replace a newer one.
  cache.Insert("k", 10, "old");
  ASSERT_TRUE(cache.Lookup("k", 13, &value));
  EXPECT_EQ(value, "new");
}

TEST(PointCacheTest, AWriteLeavesMostOtherKeysServed) {
  PointCache cache(1 << 20);
  for (int i = 0; i < 200; ++i) cache.Insert("key" + std::to_string(i), 5, "v");
  Commit(cache, {"key0"}, 6);
  std::string value;
  int served = 0;
  for (int i = 1; i < 200; ++i) served += cache.Lookup("key" + std::to_string(i), 7, &value);
  EXPECT_FALSE(cache.Lookup("key0", 7, &value));
  EXPECT_GE(served, 195) << "one write should hide only the keys of its stripe";
}

// A batch answers key by key as single lookups do: hits, misses, rows a
// write hid, and with a guard, whatever the guard's stripe says.
TEST(PointCacheTest, BatchLookupsAnswerAsSingleLookups) {
  PointCache cache(1 << 20);
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) {
    keys.push_back("key" + std::to_string(i));
    if (i % 3 != 0) cache.Insert(keys.back(), 5, "value" + std::to_string(i));
  }
  Commit(cache, {"key1", "key2"}, 6);
  for (const std::string& guard : {std::string(), std::string("guard")}) {
    for (size_t n : {size_t{1}, size_t{7}, keys.size()}) {
      std::vector<std::string> values(n, "stale"), singles(n);
      std::vector<std::string*> targets(n);
      for (size_t i = 0; i < n; ++i) targets[i] = &values[i];
      std::unique_ptr<bool[]> found(new bool[n]);
      cache.LookupBatch(n, keys.data(), 7, targets.data(), found.get(), guard);
      size_t hits = 0;
      for (size_t i = 0; i < n; ++i) {
        const bool single = cache.Lookup(keys[i], 7, &singles[i], guard);
        EXPECT_EQ(found[i], single) << keys[i] << " n " << n << " guard " << guard;
        if (single) EXPECT_EQ(values[i], singles[i]) << keys[i];
        hits += found[i];
      }
      if (n == keys.size()) EXPECT_GE(hits, guard.empty() ? 190u : 200u) << "two thirds are cached";
    }
  }
  Commit(cache, {"guard"}, 8);
  std::string value;
  std::string* target = &value;
  bool found = true;
  cache.LookupBatch(1, &keys[4], 9, &target, &found, "guard");
  EXPECT_FALSE(found) << "a write to the guard hides what it guards";
}

TEST(PointCacheTest, ARangeDeletionHidesEveryRow) {
  PointCache cache(1 << 20);
  for (int i = 0; i < 50; ++i) cache.Insert("key" + std::to_string(i), 5, "v");
  PointCache::WriteMark mark;
  mark.all = true;
  cache.BeginWrite(&mark);
  cache.EndWrite(mark, 6);
  std::string value;
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(cache.Lookup("key" + std::to_string(i), 7, &value)) << i;
  cache.Insert("key1", 7, "w");
  EXPECT_TRUE(cache.Lookup("key1", 7, &value));
}

TEST(PointCacheTest, AHugeBatchMarksEveryStripe) {
  PointCache cache(1 << 20);
  cache.Insert("elsewhere", 5, "v");
  std::vector<std::string> keys;
  for (int i = 0; i < 20000; ++i) keys.push_back("batch" + std::to_string(i));
  Commit(cache, keys, 6);
  std::string value;
  EXPECT_FALSE(cache.Lookup("elsewhere", 7, &value));
}

TEST(PointCacheTest, StaysWithinCapacityAndKeepsRowsThatAreHit) {
  constexpr size_t kCapacity = 256 << 10;
  PointCache cache(kCapacity);
  const std::string value(100, 'x');
  std::string out;
  // A hot set hit between inserts survives a stream of cold rows ten times
  // the capacity; the cold rows are evicted.
  for (int i = 0; i < 30000; ++i) {
    cache.Insert("cold" + std::to_string(i), 1, value);
    if (i % 4 == 0) {
      for (int h = 0; h < 32; ++h) {
        const std::string hot = "hot" + std::to_string(h);
        if (!cache.Lookup(hot, 1, &out)) cache.Insert(hot, 1, value);
      }
    }
    ASSERT_LE(cache.usage(), kCapacity);
  }
  int hot_served = 0, cold_served = 0;
  for (int h = 0; h < 32; ++h) hot_served += cache.Lookup("hot" + std::to_string(h), 1, &out);
  for (int i = 0; i < 1000; ++i) cold_served += cache.Lookup("cold" + std::to_string(i), 1, &out);
  EXPECT_EQ(hot_served, 32);
  EXPECT_EQ(cold_served, 0);
  EXPECT_GT(cache.usage(), kCapacity / 2);
}

// Writers commit new versions of a few keys (value = the version's sequence
// number) while readers at snapshots look them up, insert what they "read"
// and check every hit is the version their snapshot sees.
TEST(PointCacheTest, ConcurrentReadersNeverSeeAnotherSnapshotsVersion) {
  PointCache cache(1 << 20);
  constexpr int kKeys = 4;
  // versions[k] = the sequence number of key k's latest committed version;
  // the "database" publishes a commit by raising `published`. Key k's value at
  // snapshot s is the largest version of k <= s; versions are recorded in
  // history[k][seq] (written before publication).
  constexpr uint64_t kCommits = 20000;
  std::vector<std::vector<std::atomic<uint64_t>>> history(kKeys);
  for (auto& h : history) h = std::vector<std::atomic<uint64_t>>(kCommits + 2);
  std::atomic<uint64_t> published{1};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> wrong{0}, hits{0};
  auto value_at = [&](int k, uint64_t snapshot) {
    for (uint64_t s = snapshot; s > 0; --s) {
      if (history[k][s].load() != 0) return s;
    }
    return uint64_t{0};
  };
  std::thread writer([&] {
    for (uint64_t seq = 2; seq <= kCommits; ++seq) {
      const int k = static_cast<int>(seq % kKeys);
      PointCache::WriteMark mark;
      cache.AddKey(&mark, "key" + std::to_string(k));
      cache.BeginWrite(&mark);
      history[k][seq].store(1);
      published.store(seq);  // the commit becomes visible
      cache.EndWrite(mark, published.load());
    }
    // The readers must have read through the cache before the test ends: on
    // a busy machine they may not even have started while the commits ran.
    // After the last commit every re-read is a hit, so this comes quickly.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (hits.load() < 100 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    stop = true;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::string out;
      for (uint64_t i = 0; !stop.load(); ++i) {
        const uint64_t snapshot = published.load();
        const int k = static_cast<int>((i + r) % kKeys);
        const std::string key = "key" + std::to_string(k);
        const uint64_t expected = value_at(k, snapshot);
        if (cache.Lookup(key, snapshot, &out)) {
          ++hits;
          if (out != std::to_string(expected)) ++wrong;
        } else {
          cache.Insert(key, snapshot, std::to_string(expected));
        }
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(hits.load(), 0);
}

}  // namespace
}  // namespace docket::storage
