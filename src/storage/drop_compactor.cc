#include "storage/drop_compactor.h"

#include <algorithm>

namespace docket::storage {

DropCompactor::DropCompactor(uint64_t threshold_keys, uint64_t threshold_bytes, Clean clean,
                             std::function<void()> cancel)
    : threshold_keys_(threshold_keys), threshold_bytes_(threshold_bytes), clean_(std::move(clean)), cancel_(std::move(cancel)) {
  thread_ = std::thread([this] { Run(); });
}

DropCompactor::~DropCompactor() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  cancel_();
  thread_.join();
}

void DropCompactor::Note(const std::string& begin, const std::string& end, uint64_t keys, uint64_t bytes) {
  if (begin.empty()) return;
  bool due = false;
  {
    std::lock_guard lock(mutex_);
    auto [it, added] = hulls_.try_emplace(begin.front(), begin, end);
    if (!added) {
      if (begin < it->second.first) it->second.first = begin;
      if (end > it->second.second) it->second.second = end;
    }
    // Saturating: one report is at most "due".
    pending_keys_ += std::min(keys, threshold_keys_);
    pending_bytes_ += std::min(bytes, threshold_bytes_);
    due = DueLocked();
  }
  if (due) wake_.notify_one();
}

uint64_t DropCompactor::cleanups() const {
  std::lock_guard lock(mutex_);
  return cleanups_;
}

void DropCompactor::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || DueLocked(); });
    if (stop_) return;
    std::vector<std::pair<std::string, std::string>> spans;
    for (auto& [kind, hull] : hulls_) spans.push_back(std::move(hull));
    hulls_.clear();
    pending_keys_ = 0;
    pending_bytes_ = 0;
    lock.unlock();
    // A failure (cancelled at shutdown, or the disk) only leaves the
    // tombstones for RocksDB's own compactions; nothing is lost.
    (void)clean_(spans);
    lock.lock();
    ++cleanups_;
  }
}

}  // namespace docket::storage
