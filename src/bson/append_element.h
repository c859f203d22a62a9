// Copying one BSON element into a document being built, byte for byte.
//
// libbson's bson_append_iter is not a faithful copy for every type: a regular
// expression goes through bson_append_regex, which sorts its option
// characters and drops the ones it does not know, and JavaScript code (with
// or without scope) and DBPointer go through appenders that take C strings,
// so an embedded NUL cuts them short. A stored value must come back exactly
// as it was written (MongoDB keeps such values as given), so every copy of an
// element in Docket goes through AppendElement.
#pragma once

#include <bson/bson.h>

#include <string_view>

namespace docket::bson {

// Appends `it`'s current element to `out` under `key` (key_len < 0: up to the
// NUL), with its value bytes unchanged. Returns false where libbson would
// (the document would pass the maximum size).
bool AppendElement(bson_t* out, const char* key, int key_len, const bson_iter_t* it);

// Appends a value given as its type and raw BSON value bytes (what follows the
// key in an element), unchanged. `raw` must be a well-formed value of `type`.
bool AppendRawValue(bson_t* out, std::string_view key, bson_type_t type, std::string_view raw);

}  // namespace docket::bson
