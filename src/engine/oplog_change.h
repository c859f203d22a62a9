// One change to a document as the oplog will record it (engine/oplog.h),
// noted by the write that makes it and written into the oplog when that
// write's transaction commits.
#pragma once

#include <optional>
#include <string>

#include "docket/document.h"

namespace docket::engine {

struct OplogChange {
  char op = 'i';     // 'i' insert, 'u' update or replacement, 'd' delete
  std::string ns;    // "db.collection"
  std::string uuid;  // the collection's (16 bytes)
  Document o;        // the document; a replacement; {$v: 2, diff}; {_id} of a delete
  std::optional<Document> o2;  // an update's {_id}
};

}  // namespace docket::engine
