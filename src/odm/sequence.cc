#include "docket/odm/sequence.h"

#include <bson/bson.h>

#include <atomic>
#include <mutex>

#include "docket/odm/codec.h"

namespace docket::odm {

std::string SequenceFormat::Format(int64_t n) const {
  std::string digits = std::to_string(n);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, static_cast<size_t>(width) - digits.size(), '0');
  return prefix + digits;
}

// The block strategy's reservation, shared by every copy of a Sequence.
//
// The fast path is one fetch_add on `state_`, which packs the current
// block's generation (high 20 bits) with the next offset in it (low 44
// bits). A block's start and size live in slots_[generation % kSlots],
// written before the generation is published and checked again after
// reading (a slot is reused only kSlots generations later), so a thread that
// was paused across refills never hands out a value from the wrong block.
// Refills take refill_mutex_; offsets past the block's size mean "refill".
struct Sequence::State {
  static constexpr int kOffsetBits = 44;
  static constexpr uint64_t kOffsetMask = (uint64_t{1} << kOffsetBits) - 1;
  static constexpr int kSlots = 64;

  struct Slot {
    std::atomic<uint64_t> generation{0};
    std::atomic<int64_t> start{0};
    std::atomic<int64_t> size{0};  // 0: no block yet
  };

  std::shared_ptr<Backend> backend;
  Namespace counters;
  std::string name;
  SequenceOptions options;

  std::atomic<uint64_t> state{0};  // generation 0 has no block: the first call refills
  Slot slots[kSlots];
  std::mutex refill_mutex;

  // {_id: name} -> {$inc: {value: n}}, upserted; returns the new value.
  int64_t Draw(int64_t n, Session* session) const {
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, inc;
    detail::Append(&filter, "_id", name);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, "value", n);
    bson_append_document_end(&update, &inc);
    FindAndModifySpec spec{detail::TakeDocument(&filter), Document(), detail::TakeDocument(&update), true, true};
    std::optional<Document> after = backend->FindAndModify(counters, spec, options.write_concern, session);
    bson_iter_t it;
    if (!after || !after->Find("value", &it) || !BSON_ITER_HOLDS_INT64(&it)) {
      throw Error(Status(ErrorCode::kTypeMismatch,
                         "the counter document of sequence '" + name + "' in " + counters.db + "." +
                             counters.collection + " has no int64 'value'"));
    }
    return bson_iter_int64(&it);
  }

  int64_t NextFromBlock() {
    while (true) {
      uint64_t s = state.fetch_add(1, std::memory_order_acq_rel);
      uint64_t generation = s >> kOffsetBits;
      int64_t offset = static_cast<int64_t>(s & kOffsetMask);
      Slot& slot = slots[generation % kSlots];
      int64_t size = slot.size.load(std::memory_order_acquire);
      int64_t start = slot.start.load(std::memory_order_acquire);
      if (generation != 0 && slot.generation.load(std::memory_order_acquire) == generation && offset < size) {
        return start + offset;
      }
      Refill(generation);
    }
  }

  // Installs a new block unless someone already replaced `seen`.
  void Refill(uint64_t seen) {
    std::lock_guard lock(refill_mutex);
    uint64_t current = state.load(std::memory_order_acquire) >> kOffsetBits;
    if (current != seen) return;
    const int64_t size = options.block_size;
    const int64_t end = Draw(size, nullptr);
    const uint64_t next = (current + 1) & ((uint64_t{1} << (64 - kOffsetBits)) - 1);
    const uint64_t generation = next == 0 ? 1 : next;  // 0 means "no block"
    Slot& slot = slots[generation % kSlots];
    slot.generation.store(0, std::memory_order_release);  // invalid while it changes
    slot.start.store(end - size + 1, std::memory_order_release);
    slot.size.store(size, std::memory_order_release);
    slot.generation.store(generation, std::memory_order_release);
    state.store(generation << kOffsetBits, std::memory_order_release);
  }
};

Sequence::Sequence(std::shared_ptr<Backend> backend, std::string db, std::string name, SequenceOptions options)
    : state_(std::make_shared<State>()) {
  if (options.block_size < 1) throw Error(Status(ErrorCode::kBadValue, "a sequence's block_size must be at least 1"));
  state_->backend = std::move(backend);
  state_->counters = Namespace{std::move(db), options.counters_collection};
  state_->name = std::move(name);
  state_->options = std::move(options);
}

int64_t Sequence::Next() const {
  switch (state_->options.strategy) {
    case SequenceStrategy::kAtomic: return state_->Draw(1, nullptr);
    case SequenceStrategy::kBlock: return state_->NextFromBlock();
    case SequenceStrategy::kGapless: break;
  }
  throw Error(Status(ErrorCode::kIllegalOperation,
                     "gapless sequence '" + state_->name +
                         "' hands out values only inside a transaction: use Next(session), or a collection "
                         "WithSequence, so that a failed insert gives its value back"));
}

int64_t Sequence::Next(Session& session) const {
  if (state_->options.strategy == SequenceStrategy::kBlock) return state_->NextFromBlock();
  return state_->Draw(1, &session);
}

const std::string& Sequence::name() const { return state_->name; }
SequenceStrategy Sequence::strategy() const { return state_->options.strategy; }

int64_t Sequence::Current() const {
  bson_t filter = BSON_INITIALIZER;
  detail::Append(&filter, "_id", state_->name);
  FindSpec spec{detail::TakeDocument(&filter), Document(), Document(), 0, 1, 0};
  auto cursor = state_->backend->Find(state_->counters, spec, nullptr);
  std::optional<Document> doc = cursor->Next();
  bson_iter_t it;
  if (!doc || !doc->Find("value", &it)) return 0;
  return bson_iter_as_int64(&it);
}

}  // namespace docket::odm
