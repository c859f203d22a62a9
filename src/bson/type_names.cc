#include "bson/type_names.h"

#include <iterator>

namespace docket::bson {
namespace {

struct TypeName {
  bson_type_t type;
  const char* alias;
};

constexpr TypeName kTypeNames[] = {
    {BSON_TYPE_DOUBLE, "double"},     {BSON_TYPE_UTF8, "string"},
    {BSON_TYPE_DOCUMENT, "object"},   {BSON_TYPE_ARRAY, "array"},
    {BSON_TYPE_BINARY, "binData"},    {BSON_TYPE_UNDEFINED, "undefined"},
    {BSON_TYPE_OID, "objectId"},      {BSON_TYPE_BOOL, "bool"},
    {BSON_TYPE_DATE_TIME, "date"},    {BSON_TYPE_NULL, "null"},
    {BSON_TYPE_REGEX, "regex"},       {BSON_TYPE_DBPOINTER, "dbPointer"},
    {BSON_TYPE_CODE, "javascript"},   {BSON_TYPE_SYMBOL, "symbol"},
    {BSON_TYPE_CODEWSCOPE, "javascriptWithScope"},
    {BSON_TYPE_INT32, "int"},         {BSON_TYPE_TIMESTAMP, "timestamp"},
    {BSON_TYPE_INT64, "long"},        {BSON_TYPE_DECIMAL128, "decimal"},
    {BSON_TYPE_MINKEY, "minKey"},     {BSON_TYPE_MAXKEY, "maxKey"},
};

}  // namespace

const char* TypeAlias(bson_type_t type) {
  for (const TypeName& t : kTypeNames) {
    if (t.type == type) return t.alias;
  }
  return "unknown";
}

std::optional<bson_type_t> TypeFromAlias(std::string_view alias) {
  for (const TypeName& t : kTypeNames) {
    if (alias == t.alias) return t.type;
  }
  return std::nullopt;
}

bool IsValidTypeCode(long long code) {
  return (code >= 1 && code <= 19) || code == -1 || code == 127;
}

bson_type_t TypeFromCode(long long code) {
  return code == -1 ? BSON_TYPE_MINKEY : static_cast<bson_type_t>(code);
}

}  // namespace docket::bson
