// A command's or a pipeline update's `let`: {name: <expression>, ...}, each
// expression evaluated once, with no document, seeing $$NOW and the names
// bound before it — the constants that $$name then reads in a filter's
// $expr, a pipeline or a pipeline update.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"
#include "expr/expression.h"

namespace docket::expr {

// (slot, value) pairs, ready for Variables::Set.
using Bindings = std::vector<std::pair<int, Value>>;

// Defines each name of `let` in `scope` and appends its value to *bindings
// (owned values). Errors: a name MongoDB does not allow (16866-16871), or an
// expression that fails to parse or evaluate.
Status BindLet(const Document& let, Scope& scope, int64_t now_millis, Bindings* bindings);

}  // namespace docket::expr
