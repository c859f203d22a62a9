// Change stream resume tokens: {_data: "<hex>"}, as MongoDB shapes them
// (drivers keep them opaque and send them back). Docket's hex encodes a
// ResumePoint so that tokens compare in stream order as strings:
//   "D1" + ts (16 hex digits: seconds, increment) + index in the oplog
//   entry (8) + kind (2: 01 an event, 02 the invalidate after it,
//   FF a high-water mark: after every event of that ts).
#pragma once

#include <cstdint>

#include "docket/cluster_clock.h"
#include "docket/document.h"
#include "docket/status.h"

namespace docket::engine {

struct ResumePoint {
  enum class Kind : uint8_t { kEvent = 0x01, kInvalidate = 0x02, kHighWaterMark = 0xFF };
  LogicalTime ts;
  uint32_t index = 0;  // the event's place in its entry (a transaction's applyOps)
  Kind kind = Kind::kEvent;

  // The point after every event at or before `ts`.
  static ResumePoint HighWaterMark(LogicalTime ts) { return {ts, 0xFFFFFFFF, Kind::kHighWaterMark}; }
  friend bool operator<(const ResumePoint& a, const ResumePoint& b) {
    if (!(a.ts == b.ts)) return a.ts < b.ts;
    if (a.index != b.index) return a.index < b.index;
    return a.kind < b.kind;
  }
};

// {_data: "<hex>"}.
Document EncodeResumeToken(const ResumePoint& point);
// Errors: BadValue for a token that is not one of Docket's.
Result<ResumePoint> DecodeResumeToken(const Document& token);

}  // namespace docket::engine
