// Reads outside transactions reuse snapshots and iterators
// (src/engine/read_views.h) while nothing was written since: the pool hands
// a view out again only then, and queries through reused views see every
// committed write, alone and with writers, readers and compactions running
// at once.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>

#include <rocksdb/write_batch.h>

#include "engine/read_views.h"
#include "storage/store.h"
#include "test_util.h"

namespace docket {
namespace {

using testing::GetInt;
using testing::J;
using testing::Mode;

class ReadViewPoolTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    auto store = storage::Store::Open(dir_.path(), GetParam() == Mode::kMemory, 1 << 20, 0);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void Put(const std::string& key, const std::string& value) {
    ASSERT_TRUE(store_->db()->Put(rocksdb::WriteOptions(), key, value).ok());
  }
  std::string Get(const engine::ReadViewPool::View& view, const std::string& key) {
    rocksdb::ReadOptions options;
    options.snapshot = view.snapshot;
    std::string value;
    rocksdb::Status s = store_->db()->Get(options, key, &value);
    return s.ok() ? value : s.ToString();
  }
  // The whole engine over the same directory (the store is closed first).
  std::unique_ptr<Engine> OpenEngine() {
    store_.reset();
    auto opened = Engine::Open({.path = dir_.path(), .in_memory = GetParam() == Mode::kMemory});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_P(ReadViewPoolTest, HandsOutAViewAgainOnlyWhileNothingWasWritten) {
  Put("a", "1");
  engine::ReadViewPool pool(store_->db());
  engine::ReadViewPool::View first = pool.Acquire();
  ASSERT_NE(first.snapshot, nullptr);
  EXPECT_EQ(first.iterator, nullptr);
  rocksdb::ReadOptions at_first;
  at_first.snapshot = first.snapshot;
  first.iterator.reset(store_->db()->NewIterator(at_first));
  const rocksdb::Snapshot* snapshot = first.snapshot;
  const rocksdb::Iterator* iterator = first.iterator.get();
  pool.Release(std::move(first));
  EXPECT_EQ(pool.idle(), 1u);

  // Nothing written: the same snapshot and iterator come back.
  engine::ReadViewPool::View again = pool.Acquire();
  EXPECT_EQ(again.snapshot, snapshot);
  EXPECT_EQ(again.iterator.get(), iterator);
  EXPECT_EQ(pool.idle(), 0u);
  EXPECT_EQ(Get(again, "a"), "1");

  // A write while the view is out: it is stale when it comes back, so it is
  // freed, and the next view sees the write.
  Put("a", "2");
  pool.Release(std::move(again));
  EXPECT_EQ(pool.idle(), 0u);
  engine::ReadViewPool::View fresh = pool.Acquire();
  EXPECT_EQ(Get(fresh, "a"), "2");
  EXPECT_EQ(fresh.iterator, nullptr);
  pool.Release(std::move(fresh));
  EXPECT_EQ(pool.idle(), 1u);

  // A write while the view is idle: the next Acquire frees it and takes a
  // new snapshot.
  Put("a", "3");
  engine::ReadViewPool::View after_write = pool.Acquire();
  EXPECT_EQ(pool.idle(), 0u);
  EXPECT_EQ(Get(after_write, "a"), "3");
  pool.Release(std::move(after_write));
}

TEST_P(ReadViewPoolTest, KeepsOnlyCurrentViewsAndAtMostItsCapacity) {
  Put("a", "1");
  engine::ReadViewPool pool(store_->db());
  engine::ReadViewPool::View old = pool.Acquire();
  Put("a", "2");
  std::vector<engine::ReadViewPool::View> views;
  for (size_t i = 0; i < engine::ReadViewPool::kCapacity + 4; ++i) views.push_back(pool.Acquire());
  for (auto& view : views) pool.Release(std::move(view));
  EXPECT_EQ(pool.idle(), engine::ReadViewPool::kCapacity);
  pool.Release(std::move(old));  // older than the idle ones: freed, they stay
  EXPECT_EQ(pool.idle(), engine::ReadViewPool::kCapacity);
  engine::ReadViewPool::View current = pool.Acquire();
  EXPECT_EQ(Get(current, "a"), "2");
  pool.Release(std::move(current));
  pool.Clear();
  EXPECT_EQ(pool.idle(), 0u);
}

// Writers commit "a" and "b" together, readers read both at views from one
// pool: every view is consistent (a == b) and fresh (it sees at least what
// had committed before it was acquired), while views are reused, go stale
// and are cleared under the readers. Values are copied out inside RocksDB,
// so this one runs under ThreadSanitizer too.
TEST_P(ReadViewPoolTest, ConcurrentViewsAreConsistentAndFresh) {
  Put("a", "0");
  Put("b", "0");
  engine::ReadViewPool pool(store_->db());
  std::atomic<int64_t> committed{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> stale{0}, torn{0}, reads{0};
  std::thread writer([&] {
    for (int64_t n = 1; n <= 2000; ++n) {
      rocksdb::WriteBatch batch;
      ASSERT_TRUE(batch.Put("a", std::to_string(n)).ok());
      ASSERT_TRUE(batch.Put("b", std::to_string(n)).ok());
      ASSERT_TRUE(store_->db()->Write(rocksdb::WriteOptions(), &batch).ok());
      committed.store(n);
      if (n % 4 == 0) std::this_thread::yield();  // let readers reuse views between writes
    }
  });
  std::thread clearer([&] {
    while (!stop.load()) {
      pool.Clear();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  auto reader = [&] {
    while (!stop.load()) {
      const int64_t floor = committed.load();
      engine::ReadViewPool::View view = pool.Acquire();
      const std::string a = Get(view, "a"), b = Get(view, "b");
      if (view.iterator == nullptr) {
        rocksdb::ReadOptions at_view;
        at_view.snapshot = view.snapshot;
        view.iterator.reset(store_->db()->NewIterator(at_view));
      }
      view.iterator->Seek("b");
      const std::string b_by_iterator = view.iterator->Valid() ? view.iterator->value().ToString() : "";
      pool.Release(std::move(view));
      if (a != b || b != b_by_iterator) ++torn;
      if (std::stoll(a) < floor) ++stale;
      ++reads;
    }
  };
  std::thread reader1(reader), reader2(reader);
  writer.join();
  stop = true;
  reader1.join();
  reader2.join();
  clearer.join();
  EXPECT_EQ(torn.load(), 0) << "a view saw half of a write, or its iterator and snapshot disagreed";
  EXPECT_EQ(stale.load(), 0) << "a view missed a write that had committed before it was acquired";
  EXPECT_GT(reads.load(), 0);
}

// Queries through both kinds of index plan (a range on a non-unique index,
// point keys of a unique one), one after another with single writes in
// between, against a model of what the collection holds.
TEST_P(ReadViewPoolTest, IndexedQueriesSeeEveryWriteBetweenThem) {
  std::unique_ptr<Engine> engine = OpenEngine();
  ASSERT_NE(engine, nullptr);
  Collection c = engine->collection("db", "c");
  ASSERT_TRUE(c.CreateIndex(J(R"({"v": 1})")).ok());
  ASSERT_TRUE(c.CreateIndex(J(R"({"k": 1})"), /*unique=*/true).ok());
  std::map<int, int> v_of;  // _id -> v, for every document present
  std::mt19937 random(7);
  auto count_v = [&](int v) {
    int n = 0;
    for (const auto& [id, value] : v_of) n += value == v;
    return n;
  };
  for (int step = 0; step < 300; ++step) {
    const int id = static_cast<int>(random() % 20), v = static_cast<int>(random() % 4);
    const std::string by_id = "{\"_id\": " + std::to_string(id) + "}";
    switch (random() % 3) {
      case 0:
        if (!v_of.contains(id)) {
          ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(id) + ", \"k\": " + std::to_string(id) +
                                    ", \"v\": " + std::to_string(v) + "}")).ok());
          v_of[id] = v;
        }
        break;
      case 1:
        ASSERT_TRUE(c.UpdateOne(J(by_id), J("{\"$set\": {\"v\": " + std::to_string(v) + "}}")).ok());
        if (v_of.contains(id)) v_of[id] = v;
        break;
      default:
        ASSERT_TRUE(c.DeleteOne(J(by_id)).ok());
        v_of.erase(id);
    }
    for (int probe = 0; probe < 4; ++probe) {  // the first read takes a view, the others reuse it
      auto found = c.Find(J("{\"v\": " + std::to_string(probe) + "}"));
      ASSERT_TRUE(found.ok());
      auto rows = found->ToVector();
      ASSERT_TRUE(rows.ok());
      EXPECT_EQ(static_cast<int>(rows->size()), count_v(probe)) << "step " << step << ", v " << probe;
      auto by_k = c.FindOne(J("{\"k\": " + std::to_string(id) + "}"));
      ASSERT_TRUE(by_k.ok());
      ASSERT_EQ(by_k->has_value(), v_of.contains(id)) << "step " << step;
      if (by_k->has_value()) EXPECT_EQ(GetInt(**by_k, "v"), v_of[id]);
    }
  }
}

// Transfers between accounts of two branches in transactions, while readers
// sum every account through the index on `branch` (one query, one view) and
// a compactor clears the pool under them: every sum adds up.
TEST_P(ReadViewPoolTest, ConcurrentReadersThroughReusedViewsSeeWholeTransfers) {
  std::unique_ptr<Engine> engine = OpenEngine();
  ASSERT_NE(engine, nullptr);
  Collection c = engine->collection("bank", "accounts");
  ASSERT_TRUE(c.CreateIndex(J(R"({"branch": 1})")).ok());
  constexpr int kAccounts = 12;
  constexpr int64_t kStart = 1000;
  for (int i = 0; i < kAccounts; ++i) {
    ASSERT_TRUE(c.InsertOne(J("{\"_id\": " + std::to_string(i) + ", \"branch\": \"" + (i % 2 ? "north" : "south") +
                              "\", \"balance\": " + std::to_string(kStart) + "}")).ok());
  }
  const Document both = J(R"({"branch": {"$in": ["north", "south"]}})");
  std::atomic<bool> stop{false};
  std::atomic<int64_t> transfers{0}, bad_sums{0}, reads{0};
  auto writer = [&](int seed) {
    std::mt19937 random(seed);
    for (int i = 0; i < 300; ++i) {
      const int from = static_cast<int>(random() % kAccounts), to = static_cast<int>(random() % kAccounts);
      if (from == to) continue;
      Status s = engine->WithTransaction([&](Transaction& txn) -> Status {
        UpdateOptions options;
        options.write.transaction = &txn;
        auto a = c.UpdateOne(J("{\"_id\": " + std::to_string(from) + "}"), J(R"({"$inc": {"balance": -3}})"), options);
        if (!a.ok()) return a.status();
        return c.UpdateOne(J("{\"_id\": " + std::to_string(to) + "}"), J(R"({"$inc": {"balance": 3}})"), options).status();
      });
      if (s.ok()) ++transfers;
    }
  };
  auto reader = [&] {
    while (!stop.load()) {
      auto found = c.Find(both);
      if (!found.ok()) continue;
      auto rows = found->ToVector();
      int64_t sum = 0;
      if (rows.ok()) {
        for (const Document& d : *rows) sum += GetInt(d, "balance");
      }
      if (!rows.ok() || rows->size() != kAccounts || sum != kAccounts * kStart) ++bad_sums;
      ++reads;
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(writer, 1);
  threads.emplace_back(writer, 2);
  threads.emplace_back(reader);
  threads.emplace_back(reader);
  std::thread compactor([&] {
    while (!stop.load()) {
      EXPECT_TRUE(engine->Compact().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  threads[0].join();
  threads[1].join();
  stop = true;
  for (size_t i = 2; i < threads.size(); ++i) threads[i].join();
  compactor.join();
  EXPECT_EQ(bad_sums.load(), 0) << "a read through a reused view saw a half-done transfer or missed an account";
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(transfers.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, ReadViewPoolTest, ::testing::Values(Mode::kMemory, Mode::kDisk), testing::ModeName);

}  // namespace
}  // namespace docket
