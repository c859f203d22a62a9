// PointCache: Docket's cache of single rows (records, unique-index entries)
// for point reads at a snapshot, in front of RocksDB. It replaces RocksDB's
// own row cache, whose hits went through the whole MultiGet path and an LRU
// list (a lookup moved the entry's list neighbours: more cache misses than
// the row itself); here a hit is a probe of an open-addressed table and one
// copy out of a contiguous entry, and eviction is CLOCK (a hit sets a bit).
// Index scans also keep short ranges in it, as lists of their entries
// (engine/scan.h), guarded by their index's prefix (see Lookup).
//
// Correctness with snapshots. A cached value is the key's value as of the
// snapshot it was read at (its read sequence R). A reader at snapshot S may
// use it only when no commit that touched the key has a sequence number in
// (min(S, R), max(S, R)]: then both snapshots see the same version. Keys hash
// to stripes; each stripe counts the commits touching it that are under way
// (`pending`) and keeps an upper bound of the sequence numbers of those done
// (`last`). A writer marks its stripes pending before its commit publishes
// anything and, after it returns, raises `last` to the database's latest
// sequence number before unmarking. A reader accepts an entry only when its
// stripe has nothing pending and last <= min(S, R): a commit either is still
// pending or its sequence is already counted in `last`, so a stale entry is
// never accepted whichever side of the commit the reader's snapshot is on.
// A range deletion marks every stripe at once (the `all` stripe).
//
// Only reads outside a transaction may use it (a transaction must see its own
// writes); every commit of records or index entries must be bracketed by
// BeginWrite/EndWrite (storage::Store does it for the writes it performs).
//
// Thread-safe: shards have a mutex each, held while probing and copying one
// entry; the stripes are atomics.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace docket::storage {

class PointCache {
 public:
  explicit PointCache(size_t capacity_bytes);
  ~PointCache();
  PointCache(const PointCache&) = delete;
  PointCache& operator=(const PointCache&) = delete;

  // The stripes one commit's keys touch, for the two calls below; `all`
  // marks every stripe (a range deletion, or a batch so large that most
  // stripes are touched anyway).
  struct WriteMark {
    std::vector<uint32_t> stripes;
    bool all = false;
  };
  // Marks the key's stripe and, for an index entry (storage/keys.h), the
  // stripe of its index's prefix too: the guard of that index's cached ranges.
  void AddKey(WriteMark* mark, std::string_view key) const;
  // Brackets one commit: BeginWrite before it can publish anything, EndWrite
  // after it returned (successfully or not) with the database's latest
  // sequence number at that point, which covers the commit's own. BeginWrite
  // deduplicates the stripes; pass the same mark to both.
  void BeginWrite(WriteMark* mark);
  void EndWrite(const WriteMark& mark, uint64_t latest_sequence);

  // Copies into *value the row cached for `key` if it is valid for a reader
  // at snapshot sequence `snapshot`; false otherwise. With a `guard`, the
  // stripe checked is the guard's instead of the key's: a value derived from
  // many keys (an index range's entries) is cached under a key of its own
  // and guarded by a key whose stripe every write of those keys marks (see
  // AddKey).
  bool Lookup(std::string_view key, uint64_t snapshot, std::string* value, std::string_view guard = {});
  // Lookup of keys[0..n) (one guard for all), with the batch's memory
  // misses overlapped: every key's table slot is loaded first, then every
  // entry found, then each is probed and copied as by Lookup. found[i] and
  // *values[i] are what Lookup(keys[i], snapshot, values[i], guard) gives.
  void LookupBatch(size_t n, const std::string* keys, uint64_t snapshot, std::string* const* values, bool* found,
                   std::string_view guard = {});
  // Caches `value`, read at snapshot sequence `snapshot`, for `key`
  // (replacing an entry read at an older snapshot), evicting as needed.
  void Insert(std::string_view key, uint64_t snapshot, std::string_view value);

  // Bytes charged (entries with their keys, values and table slots).
  size_t usage() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Entry;
  struct Slot;
  struct Shard;
  struct Stripe {
    std::atomic<uint32_t> pending{0};
    std::atomic<uint64_t> last{0};
  };
  static constexpr int kShardBits = 6;
  static constexpr uint32_t kStripes = 1 << 14;

  static uint32_t StripeOf(uint64_t hash);
  Shard& ShardOf(uint64_t hash) const;
  bool LookupHashed(uint64_t hash, std::string_view key, uint64_t guard_hash, uint64_t snapshot, std::string* value);
  void PrefetchSlot(uint64_t hash) const;   // a hint only; takes no lock
  void PrefetchEntry(uint64_t hash);        // the entry a probe for `hash` would meet first
  bool StripeAllows(uint64_t hash, uint64_t snapshot, uint64_t read_seq) const;
  static void Raise(std::atomic<uint64_t>* last, uint64_t seq);

  const size_t capacity_;
  std::unique_ptr<Shard[]> shards_;
  std::unique_ptr<Stripe[]> stripes_;
  Stripe all_;  // marked by range deletions: covers every key
};

}  // namespace docket::storage
