#include "bson/string_order.h"

#include "bson/append_element.h"
#include "bson/key_encoding.h"
#include "bson/value.h"

namespace docket::bson {
namespace {

// Appends `it`'s value under `key`, strings replaced by their sort keys.
void AppendKeyed(bson_t* out, const char* key, int key_len, const bson_iter_t& it, const StringOrder& order) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: {
      uint32_t len = 0;
      const char* s = bson_iter_type(&it) == BSON_TYPE_SYMBOL ? bson_iter_symbol(&it, &len) : bson_iter_utf8(&it, &len);
      const std::string sort_key = order.SortKey(std::string_view(s, len));
      bson_append_utf8(out, key, key_len, sort_key.data(), static_cast<int>(sort_key.size()));
      return;
    }
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY: {
      if (!HasStrings(it)) break;
      const bool array = bson_iter_type(&it) == BSON_TYPE_ARRAY;
      bson_t child;
      if (array) {
        bson_append_array_begin(out, key, key_len, &child);
      } else {
        bson_append_document_begin(out, key, key_len, &child);
      }
      bson_iter_t inner;
      if (bson_iter_recurse(&it, &inner)) {
        while (bson_iter_next(&inner)) {
          AppendKeyed(&child, bson_iter_key(&inner), static_cast<int>(bson_iter_key_len(&inner)), inner, order);
        }
      }
      if (array) {
        bson_append_array_end(out, &child);
      } else {
        bson_append_document_end(out, &child);
      }
      return;
    }
    default:
      break;
  }
  AppendElement(out, key, key_len, &it);
}

}  // namespace

bool HasStrings(const bson_iter_t& value) {
  switch (bson_iter_type(&value)) {
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL:
      return true;
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY: {
      bson_iter_t inner;
      if (!bson_iter_recurse(&value, &inner)) return false;
      while (bson_iter_next(&inner)) {
        if (HasStrings(inner)) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

void AppendComparisonKeyValue(std::string* out, const bson_iter_t& value, const StringOrder* order) {
  if (order == nullptr || !HasStrings(value)) {
    AppendKeyValue(out, value);
    return;
  }
  const std::string keyed = ComparisonKey(value, order);
  bson_iter_t it;
  IterHeldValue(keyed, &it);
  AppendKeyValue(out, it);
}

std::string ComparisonKey(const bson_iter_t& value, const StringOrder* order) {
  if (order == nullptr || !HasStrings(value)) return HoldValue(value);
  bson_t holder = BSON_INITIALIZER;
  AppendKeyed(&holder, "", 0, value, *order);
  std::string out(reinterpret_cast<const char*>(bson_get_data(&holder)), holder.len);
  bson_destroy(&holder);
  return out;
}

}  // namespace docket::bson
