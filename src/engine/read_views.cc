#include "engine/read_views.h"

namespace docket::engine {

ReadViewPool::View ReadViewPool::Acquire() {
  std::vector<View> stale;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      if (idle_.back().snapshot->GetSequenceNumber() == db_->GetLatestSequenceNumber()) {
        View view = std::move(idle_.back());
        idle_.pop_back();
        return view;
      }
      stale.swap(idle_);  // they share one sequence number: all are stale
    }
  }
  for (View& view : stale) Free(view);
  return View{db_->GetSnapshot(), nullptr};
}

void ReadViewPool::Release(View view) {
  if (view.snapshot == nullptr) return;
  const bool usable = view.iterator == nullptr || view.iterator->status().ok();
  std::vector<View> stale;
  {
    std::lock_guard lock(mutex_);
    // Checked under the mutex, so that the order of release stays the
    // order of sequence numbers.
    if (usable && view.snapshot->GetSequenceNumber() == db_->GetLatestSequenceNumber()) {
      if (!idle_.empty() && idle_.back().snapshot->GetSequenceNumber() != view.snapshot->GetSequenceNumber()) {
        stale.swap(idle_);
      }
      if (idle_.size() < kCapacity) {
        idle_.push_back(std::move(view));
        view.snapshot = nullptr;
      }
    }
  }
  for (View& old : stale) Free(old);
  if (view.snapshot != nullptr) Free(view);
}

void ReadViewPool::Clear() {
  std::vector<View> all;
  {
    std::lock_guard lock(mutex_);
    all.swap(idle_);
  }
  for (View& view : all) Free(view);
}

size_t ReadViewPool::idle() {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

void ReadViewPool::Free(View& view) {
  view.iterator.reset();  // before its snapshot
  db_->ReleaseSnapshot(view.snapshot);
  view.snapshot = nullptr;
}

}  // namespace docket::engine
