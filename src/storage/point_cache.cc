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
  uint64_t hash;
  Entry* entry;  // null: empty
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
};

// An open-addressed table (linear probing, backward-shift deletion) with a
// CLOCK hand. Guarded by `mutex`.
struct PointCache::Shard {
  std::mutex mutex;
  std::vector<Slot> slots = std::vector<Slot>(256, Slot{0, nullptr});
  // Where `slots` lives and its mask, for Prefetch, which reads them without
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
      if (slots[i].hash == hash && e->key_size == key.size() && std::memcmp(e->key(), key.data(), key.size()) == 0) {
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
      size_t home = Home(slots[j].hash);
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
      size_t i = Home(s.hash);
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

bool PointCache::Lookup(std::string_view key, uint64_t snapshot, std::string* value, std::string_view guard) {
  const uint64_t hash = HashKey(key);
  const uint64_t guard_hash = guard.empty() ? hash : HashKey(guard);
  Shard& shard = shards_[hash & ((size_t{1} << kShardBits) - 1)];
  std::lock_guard lock(shard.mutex);
  Entry* e = shard.slots[shard.Probe(hash, key)].entry;
  if (e == nullptr || !StripeAllows(guard_hash, snapshot, e->read_seq)) return false;
  e->referenced = true;
  value->assign(e->value(), e->value_size);
  return true;
}

void PointCache::Prefetch(std::string_view key) const {
  const uint64_t hash = HashKey(key);
  const Shard& shard = shards_[hash & ((size_t{1} << kShardBits) - 1)];
  const Slot* slots = shard.hint_slots.load(std::memory_order_relaxed);
  __builtin_prefetch(slots + ((hash >> kShardBits) & shard.hint_mask.load(std::memory_order_relaxed)));
}

void PointCache::Insert(std::string_view key, uint64_t snapshot, std::string_view value) {
  const uint64_t hash = HashKey(key);
  Shard& shard = shards_[hash & ((size_t{1} << kShardBits) - 1)];
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
  shard.slots[i] = Slot{hash, fresh};
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
