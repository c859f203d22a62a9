// MongoDB's names for BSON types ("double", "string", "objectId", ...), as
// $type, error messages and the $type expression use them.
#pragma once

#include <bson/bson.h>

#include <optional>
#include <string_view>

namespace docket::bson {

// The alias MongoDB prints for a type ("int", "long", "missing" is not a type).
const char* TypeAlias(bson_type_t type);

// The type code for an alias ("string" -> 2), or nullopt. "number" is not a
// single type and is not accepted here.
std::optional<bson_type_t> TypeFromAlias(std::string_view alias);

// Whether `code` is a valid BSON type number (1..19, -1 minKey, 127 maxKey).
bool IsValidTypeCode(long long code);
// The libbson type of MongoDB type number `code` (-1, minKey, is libbson's
// 0xFF). REQUIRES: IsValidTypeCode(code).
bson_type_t TypeFromCode(long long code);

}  // namespace docket::bson
