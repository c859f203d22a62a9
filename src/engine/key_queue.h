// Where single-document writes queue for a document before RocksDB's row
// lock. RocksDB's lock manager wakes every waiter of a lock stripe when a lock
// is released (a condition variable's notify_all): with N writers on one hot
// document each increment wakes N threads of which one proceeds, and on a
// small machine those wake-ups, not the work, set the pace. A mutex per
// stripe of keys hands the document to one waiter at a time instead.
//
// Contract (what keeps this deadlock-free): a thread takes at most one of
// these mutexes, only for the document an update, delete or findAndModify
// outside a user transaction locks first (WriteUnit::QueueAndGetForUpdate),
// while holding no row lock, and releases it when that write commits (before
// any j:true sync) or gives up. User transactions never take
// them. Distinct keys may share a mutex; they then only queue, for the few
// microseconds of one write.
#pragma once

#include <array>
#include <functional>
#include <mutex>
#include <string_view>

namespace docket::engine {

class KeyQueues {
 public:
  std::mutex& For(std::string_view key) { return stripes_[std::hash<std::string_view>()(key) % stripes_.size()]; }

 private:
  std::array<std::mutex, 512> stripes_;
};

}  // namespace docket::engine
