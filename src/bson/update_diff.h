// MongoDB's update diff ($v: 2 oplog entries, "doc_diff"): what changed
// between two versions of a document, as an update's oplog entry records it
// and a change stream's updateDescription is read from.
//
// An object's diff has up to four sections, in this order:
//   d: {field: false}       fields removed
//   u: {field: <value>}     fields whose value changed (to another type, or
//                           a scalar; or an object or array whose diff would
//                           say nothing, as one reordered)
//   i: {field: <value>}     fields added
//   s<field>: <diff>        an object (or array) changed inside
// and an array's diff is {a: true, l: <new length> (when it shrank),
// u<index>: <value>, s<index>: <diff>}, indexes ascending. Values compare
// byte for byte (1 and 1.0 differ), as MongoDB's diff compares them.
#pragma once

#include "docket/document.h"

namespace docket::bson {

// The diff that turns `before` into `after`; {} when they are the same.
Document ComputeUpdateDiff(const Document& before, const Document& after);

}  // namespace docket::bson
