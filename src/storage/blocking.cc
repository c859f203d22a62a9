#include "docket/blocking.h"

namespace docket {
namespace {
thread_local BlockingObserver* t_observer = nullptr;
}  // namespace

void SetThreadBlockingObserver(BlockingObserver* observer) { t_observer = observer; }

BlockingRegion::BlockingRegion() : observer_(t_observer) {
  if (observer_ != nullptr) observer_->Enter();
}

BlockingRegion::~BlockingRegion() {
  if (observer_ != nullptr) observer_->Leave();
}

}  // namespace docket
