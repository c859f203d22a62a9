// Sequences: numbers that never collide, drawn from a counters collection
// (one document per sequence: {_id: name, value: last}). Three strategies:
//
//   kAtomic   one findAndModify {$inc: 1} (upsert on first use) per value:
//             safe from the very first concurrent call, one round trip each.
//   kBlock    reserves block_size values per round trip and hands them out to
//             any number of threads with a fetch-add; values a process
//             reserved but did not use are gaps (a restart loses the rest of
//             its block).
//   kGapless  the increment commits in one transaction with the insert that
//             uses it, so an insert that fails (validation, duplicate key,
//             crash) burns no number: the values are exactly 1, 2, 3, ...
//             Needs transactions: the embedded engine has them; MongoDB needs
//             a replica set, and on a standalone the first value fails with
//             IllegalOperation (20) instead of leaving silent gaps.
//
// A Sequence is a cheap handle; copies share the block reservation (safe
// from any number of threads). The counter itself lives in the database, so
// separate handles and separate processes never hand out the same value.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "docket/odm/backend.h"

namespace docket::odm {

enum class SequenceStrategy { kAtomic, kBlock, kGapless };

struct SequenceOptions {
  SequenceStrategy strategy = SequenceStrategy::kAtomic;
  int64_t block_size = 1000;                           // kBlock
  std::string counters_collection = "docket_sequences";  // in the sequence's database
  WriteConcernOptions write_concern;                   // of the counter's writes
};

// How a sequenced string field is written: prefix + zero-padded number
// ("Prefix" + 7 -> "Prefix7"; width 5 -> "Prefix00007").
struct SequenceFormat {
  std::string prefix;
  int width = 0;
  std::string Format(int64_t n) const;
};

class Sequence {
 public:
  Sequence(std::shared_ptr<Backend> backend, std::string db, std::string name, SequenceOptions options);

  // The next value (kAtomic, kBlock). Errors: the backend's. For kGapless
  // use Next(Session&): without a transaction a gapless value is refused
  // (IllegalOperation 20), since nothing could give it back.
  int64_t Next() const;
  // The next value, drawn inside `session`'s transaction (all strategies;
  // kGapless requires it).
  int64_t Next(Session& session) const;

  const std::string& name() const;
  SequenceStrategy strategy() const;
  // The last value drawn by anyone (read from the counter; 0 before the first).
  int64_t Current() const;

  struct State;  // shared by copies; thread-safe

 private:
  std::shared_ptr<State> state_;
};

}  // namespace docket::odm
