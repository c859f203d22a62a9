#include "storage/point_cache.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>

#include "storage/keys.h"

namespace docket::storage {

// A table slot; slots are charged at two per entry (the table is kept at
// most three quarters full and doubles when it is).
struct PointCache::Slot {
  // The key's hash, except that its low kShardBits (which choose the shard,
  // so they are the same in every slot of a table) hold how many cache lines
  // the entry spans (at most 63): what PrefetchEntry loads without reading
  // the entry first.
  uint64_t tag;
  Entry* entry;  // null: empty
  bool Holds(uint64_t hash) const { return (tag >> kShardBits) == (hash >> kShardBits); }
  size_t lines() const { return tag & ((uint64_t{1} << kShardBits) - 1); }
};

// One cached row: the header, then the key's bytes, then the value's, in one
// allocation (a hit reads one contiguous run of memory).
struct PointCache::Entry {
  uint64_t read_seq;  // the snapshot sequence the value was read at
  uint32_t key_size;
  uint32_t value_size;
  bool referenced;  // CLOCK: set by a hit, cleared as the hand passes
  char* key() { return reinterpret_cast<char*>(this + 1); }
  char* value() { return key() + key_size; }
  size_t charge() const { return sizeof(Entry) + key_size + value_size + 2 * sizeof(Slot); }

  static Entry* Make(std::string_view k, std::string_view v, uint64_t seq) {
    void* raw = ::operator new(sizeof(Entry) + k.size() + v.size());
    Entry* e = new (raw) Entry{seq, static_cast<uint32_t>(k.size()), static_cast<uint32_t>(v.size()), false};
    std::memcpy(e->key(), k.data(), k.size());
    std::memcpy(e->value(), v.data(), v.size());
    return e;
  }
  static void Free(Entry* e) { ::operator delete(e); }

  // The Slot::tag of this entry under `hash`.
  uint64_t Tag(uint64_t hash) const {
    const size_t bytes = sizeof(Entry) + key_size + value_size;
    const size_t lines = ((reinterpret_cast<uintptr_t>(this) & 63) + bytes + 63) / 64;
    const uint64_t max_lines = (uint64_t{1} << kShardBits) - 1;
    return (hash & ~max_lines) | std::min<uint64_t>(lines, max_lines);
  }
};

// An open-addressed table (linear probing, backward-shift deletion) with a
// CLOCK hand. Guarded by `mutex`.
struct PointCache::Shard {
  std::mutex mutex;
  std::vector<Slot> slots = std::vector<Slot>(256, Slot{0, nullptr});
  // Where `slots` lives and its mask, for PrefetchSlot, which reads them without
  // the mutex: a stale value only prefetches the wrong line.
  std::atomic<const Slot*> hint_slots{slots.data()};
  std::atomic<size_t> hint_mask{slots.size() - 1};
  size_t count = 0;
  size_t usage = 0;
  size_t capacity = 0;
  size_t hand = 0;

  size_t mask() const { return slots.size() - 1; }
  size_t Home(uint64_t hash) const { return (hash >> kShardBits) & mask(); }

  // The slot holding `key`, or the empty slot where the probe ended.
  size_t Probe(uint64_t hash, std::string_view key) const {
    size_t i = Home(hash);
    while (slots[i].entry != nullptr) {
      Entry* e = slots[i].entry;
      if (slots[i].Holds(hash) && e->key_size == key.size() && std::memcmp(e->key(), key.data(), key.size()) == 0) {
        return i;
      }
      i = (i + 1) & mask();
    }
    return i;
  }

  void Erase(size_t i) {
    usage -= slots[i].entry->charge();
    Entry::Free(slots[i].entry);
    --count;
    // Backward shift: move later entries of the same probe run into the gap
    // unless their home lies cyclically in (gap, their slot].
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask();
      if (slots[j].entry == nullptr) break;
      size_t home = Home(slots[j].tag);
      bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots[i] = slots[j];
      i = j;
    }
    slots[i] = Slot{0, nullptr};
  }

  // Evicts by CLOCK until `charge` more bytes fit.
  void MakeRoom(size_t charge) {
    while (count > 0 && usage + charge > capacity) {
      Slot& slot = slots[hand];
      if (slot.entry == nullptr) {
        hand = (hand + 1) & mask();
      } else if (slot.entry->referenced) {
        slot.entry->referenced = false;
        hand = (hand + 1) & mask();
      } else {
        Erase(hand);  // the entry shifted into `hand`, if any, is looked at next
      }
    }
  }

  void GrowIfFull() {
    if ((count + 1) * 4 <= slots.size() * 3) return;
    std::vector<Slot> old(slots.size() * 2, Slot{0, nullptr});
    old.swap(slots);
    for (const Slot& s : old) {
      if (s.entry == nullptr) continue;
      size_t i = Home(s.tag);
      while (slots[i].entry != nullptr) i = (i + 1) & mask();
      slots[i] = s;
    }
    hand = 0;
    hint_slots.store(slots.data(), std::memory_order_relaxed);
    hint_mask.store(mask(), std::memory_order_relaxed);
  }

  ~Shard() {
    for (Slot& s : slots) {
      if (s.entry != nullptr) Entry::Free(s.entry);
    }
  }
};

namespace {

uint64_t HashKey(std::string_view key) { return std::hash<std::string_view>{}(key); }

constexpr size_t kMaxPrefetchLines = 16;

// storage/keys.h: an index entry's key starts with [0x03][index id u64 BE].
constexpr size_t kIndexPrefixSize = 9;


}  // namespace

PointCache::PointCache(size_t capacity_bytes)
    : capacity_(capacity_bytes),
      shards_(new Shard[size_t{1} << kShardBits]),
      stripes_(new Stripe[kStripes]) {
  for (size_t i = 0; i < (size_t{1} << kShardBits); ++i) shards_[i].capacity = capacity_bytes >> kShardBits;
}

PointCache::~PointCache() = default;

void PointCache::AddKey(WriteMark* mark, std::string_view key) const {
  if (mark->all) return;
  mark->stripes.push_back(StripeOf(HashKey(key)));
  if (key.size() > kIndexPrefixSize && key[0] == kIndexPrefix) {
    mark->stripes.push_back(StripeOf(HashKey(key.substr(0, kIndexPrefixSize))));
  }
  // A batch touching this many stripes might as well mark them all.
  if (mark->stripes.size() >= kStripes) {
    mark->all = true;
    mark->stripes.clear();
  }
}

void PointCache::BeginWrite(WriteMark* mark) {
  if (mark->all) {
    all_.pending.fetch_add(1);
    return;
  }
  std::sort(mark->stripes.begin(), mark->stripes.end());
  mark->stripes.erase(std::unique(mark->stripes.begin(), mark->stripes.end()), mark->stripes.end());
  for (uint32_t s : mark->stripes) stripes_[s].pending.fetch_add(1);
}

void PointCache::Raise(std::atomic<uint64_t>* last, uint64_t seq) {
  uint64_t seen = last->load();
  while (seen < seq && !last->compare_exchange_weak(seen, seq)) {
  }
}

void PointCache::EndWrite(const WriteMark& mark, uint64_t latest_sequence) {
  // `last` first: a reader that sees the stripe no longer pending sees it.
  if (mark.all) {
    Raise(&all_.last, latest_sequence);
    all_.pending.fetch_sub(1);
    return;
  }
  for (uint32_t s : mark.stripes) {
    Raise(&stripes_[s].last, latest_sequence);
    stripes_[s].pending.fetch_sub(1);
  }
}

uint32_t PointCache::StripeOf(uint64_t hash) { return static_cast<uint32_t>(hash >> 32) & (kStripes - 1); }

bool PointCache::StripeAllows(uint64_t hash, uint64_t snapshot, uint64_t read_seq) const {
  const Stripe& stripe = stripes_[StripeOf(hash)];
  const uint64_t older = std::min(snapshot, read_seq);
  if (all_.pending.load() != 0 || stripe.pending.load() != 0) return false;
  return all_.last.load() <= older && stripe.last.load() <= older;
}

PointCache::Shard& PointCache::ShardOf(uint64_t hash) const {
  return shards_[hash & ((size_t{1} << kShardBits) - 1)];
}

bool PointCache::LookupHashed(uint64_t hash, std::string_view key, uint64_t guard_hash, uint64_t snapshot,
                              std::string* value) {
  Shard& shard = ShardOf(hash);
  std::lock_guard lock(shard.mutex);
  Entry* e = shard.slots[shard.Probe(hash, key)].entry;
  if (e == nullptr || !StripeAllows(guard_hash, snapshot, e->read_seq)) return false;
  e->referenced = true;
  value->assign(e->value(), e->value_size);
  return true;
}

bool PointCache::Lookup(std::string_view key, uint64_t snapshot, std::string* value, std::string_view guard) {
  const uint64_t hash = HashKey(key);
  return LookupHashed(hash, key, guard.empty() ? hash : HashKey(guard), snapshot, value);
}

void PointCache::PrefetchSlot(uint64_t hash) const {
  // Reads the table's address and mask without the mutex: a stale pair only
  // prefetches the wrong line (the old table is never dereferenced).
  const Shard& shard = ShardOf(hash);
  const Slot* slots = shard.hint_slots.load(std::memory_order_relaxed);
  __builtin_prefetch(slots + ((hash >> kShardBits) & shard.hint_mask.load(std::memory_order_relaxed)));
}

void PointCache::PrefetchEntry(uint64_t hash) {
  // The slot is read under the mutex, as in a lookup; the entry's lines are
  // asked for (at most kMaxPrefetchLines: a long value's copy streams).
  Shard& shard = ShardOf(hash);
  std::lock_guard lock(shard.mutex);
  for (size_t i = shard.Home(hash); shard.slots[i].entry != nullptr; i = (i + 1) & shard.mask()) {
    if (!shard.slots[i].Holds(hash)) continue;
    const char* e = reinterpret_cast<const char*>(shard.slots[i].entry);
    const size_t lines = std::min<size_t>(shard.slots[i].lines(), kMaxPrefetchLines);
    for (size_t line = 0; line < lines; ++line) __builtin_prefetch(e + 64 * line);
    return;
  }
}

void PointCache::LookupBatch(size_t n, const std::string* keys, uint64_t snapshot, std::string* const* values,
                             bool* found, std::string_view guard) {
  if (n == 1) {
    found[0] = Lookup(keys[0], snapshot, values[0], guard);
    return;
  }
  std::vector<uint64_t> hashes(n);
  for (size_t i = 0; i < n; ++i) {
    hashes[i] = HashKey(keys[i]);
    PrefetchSlot(hashes[i]);
  }
  for (size_t i = 0; i < n; ++i) PrefetchEntry(hashes[i]);
  const uint64_t guard_hash = guard.empty() ? 0 : HashKey(guard);
  for (size_t i = 0; i < n; ++i) {
    found[i] = LookupHashed(hashes[i], keys[i], guard.empty() ? hashes[i] : guard_hash, snapshot, values[i]);
  }
}

void PointCache::Insert(std::string_view key, uint64_t snapshot, std::string_view value) {
  const uint64_t hash = HashKey(key);
  Shard& shard = ShardOf(hash);
  Entry* fresh = Entry::Make(key, value, snapshot);
  const size_t charge = fresh->charge();
  std::lock_guard lock(shard.mutex);
  if (charge > shard.capacity / 4) {
    Entry::Free(fresh);
    return;
  }
  size_t i = shard.Probe(hash, key);
  if (Entry* old = shard.slots[i].entry; old != nullptr) {
    if (old->read_seq >= snapshot) {
      Entry::Free(fresh);
      return;
    }
    shard.Erase(i);
  }
  shard.MakeRoom(charge);
  shard.GrowIfFull();
  i = shard.Probe(hash, key);
  shard.slots[i] = Slot{fresh->Tag(hash), fresh};
  ++shard.count;
  shard.usage += charge;
}

size_t PointCache::usage() const {
  size_t total = 0;
  for (size_t i = 0; i < (size_t{1} << kShardBits); ++i) {
    std::lock_guard lock(shards_[i].mutex);
    total += shards_[i].usage;
  }
  return total;
}

}  // namespace docket::storage
