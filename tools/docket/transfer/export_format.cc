#include "tools/docket/transfer/export_format.h"

#include <vector>

#include "tools/docket/transfer/go_format.h"
#include "tools/docket/transfer/typed_columns.h"

namespace docket::transfer {
namespace {

std::string Utf8Field(const bson_iter_t* it) {
  uint32_t length = 0;
  const char* s = bson_iter_utf8(it, &length);
  return std::string(s, length);
}

// Go's strconv.Atoi, as mongoexport reads an array index in a field path.
bool ArrayIndex(const std::string& part, int64_t* index) { return ParseGoInt(part, 64, index); }

}  // namespace

std::string CompactJson(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false, escaped = false;
  for (char c : json) {
    if (in_string) {
      out.push_back(c);
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '"') in_string = true;
    out.push_back(c);
  }
  return out;
}

std::string IndentJson(const std::string& compact) {
  std::string out;
  int depth = 0;
  bool need_indent = false, in_string = false, escaped = false;
  const auto newline = [&] {
    out.push_back('\n');
    out.append(static_cast<size_t>(depth), '\t');
  };
  for (char c : compact) {
    if (in_string) {
      out.push_back(c);
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (need_indent && c != ']' && c != '}') {
      need_indent = false;
      ++depth;
      newline();
    }
    switch (c) {
      case '"':
        in_string = true;
        out.push_back(c);
        break;
      case '{':
      case '[':
        out.push_back(c);
        need_indent = true;
        break;
      case ',':
        out.push_back(c);
        newline();
        break;
      case ':':
        out += ": ";
        break;
      case '}':
      case ']':
        if (need_indent) {
          need_indent = false;  // an empty {} or [] stays on its line
        } else {
          --depth;
          newline();
        }
        out.push_back(c);
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string CsvCellAt(const bson_t* doc, const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1)
    parts.push_back(path.substr(start, dot - start));
  parts.push_back(path.substr(start));

  bson_iter_t it;
  if (!bson_iter_init(&it, doc)) return "";
  bool array = false;  // what `it` iterates
  for (size_t i = 0; i < parts.size(); ++i) {
    bool found = false;
    if (array) {
      int64_t index;
      if (!ArrayIndex(parts[i], &index) || index < 0) return "";
      for (int64_t n = 0; bson_iter_next(&it); ++n)
        if (n == index) {
          found = true;
          break;
        }
    } else {
      found = bson_iter_find(&it, parts[i].c_str());
    }
    if (!found) return "";
    if (i + 1 == parts.size()) break;
    const bson_type_t type = bson_iter_type(&it);
    if (type != BSON_TYPE_DOCUMENT && type != BSON_TYPE_ARRAY) return "";
    array = type == BSON_TYPE_ARRAY;
    bson_iter_t child;
    if (!bson_iter_recurse(&it, &child)) return "";
    it = child;
  }

  uint32_t length = 0;
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_NULL:
      return "";
    case BSON_TYPE_UTF8:
      return Utf8Field(&it);
    case BSON_TYPE_SYMBOL: {
      const char* s = bson_iter_symbol(&it, &length);
      return std::string(s, length);
    }
    case BSON_TYPE_INT32:
      return std::to_string(bson_iter_int32(&it));
    case BSON_TYPE_INT64:
      return std::to_string(bson_iter_int64(&it));
    case BSON_TYPE_DOUBLE:
      return GoFormatFloat(bson_iter_double(&it));
    case BSON_TYPE_BOOL:
      return bson_iter_bool(&it) ? "true" : "false";
    case BSON_TYPE_OID: {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(&it), hex);
      return std::string("ObjectId(") + hex + ")";
    }
    case BSON_TYPE_DATE_TIME: {
      const int64_t ms = bson_iter_date_time(&it);
      if (ms < kLastIsoDateMillis) return IsoDate(ms);
      return "{ \"$date\": { \"$numberLong\" : \"" + std::to_string(ms) + "\" }}";
    }
    case BSON_TYPE_BINARY: {
      bson_subtype_t subtype;
      const uint8_t* data = nullptr;
      bson_iter_binary(&it, &subtype, &length, &data);
      return HexBytes(data, length, true);
    }
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t dec;
      bson_iter_decimal128(&it, &dec);
      char text[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string(&dec, text);
      return text;
    }
    case BSON_TYPE_REGEX: {
      const char* options = nullptr;
      const char* pattern = bson_iter_regex(&it, &options);
      return std::string("/") + pattern + "/" + options;
    }
    case BSON_TYPE_CODE: {
      const char* code = bson_iter_code(&it, &length);
      return std::string(code, length);
    }
    case BSON_TYPE_CODEWSCOPE: {
      uint32_t scope_length = 0;
      const uint8_t* scope = nullptr;
      const char* code = bson_iter_codewscope(&it, &length, &scope_length, &scope);
      return std::string(code, length);
    }
    case BSON_TYPE_TIMESTAMP: {
      uint32_t t = 0, i = 0;
      bson_iter_timestamp(&it, &t, &i);
      return "{ \"$timestamp\": { \"t\": " + std::to_string(t) + ", \"i\": " + std::to_string(i) + " } }";
    }
    case BSON_TYPE_DBPOINTER: {
      const char* collection = nullptr;
      const bson_oid_t* oid = nullptr;
      bson_iter_dbpointer(&it, &length, &collection, &oid);
      char hex[25];
      bson_oid_to_string(oid, hex);
      return "{ \"$ref\": \"" + std::string(collection, length) + "\", \"$id\": ObjectID(\"" + hex + "\") }";
    }
    case BSON_TYPE_UNDEFINED:
      return "{ \"$undefined\": true }";
    case BSON_TYPE_MINKEY:
      return "$MinKey";
    case BSON_TYPE_MAXKEY:
      return "$MaxKey";
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY:
      return LegacyJson(&it);
    default:
      return "";
  }
}

}  // namespace docket::transfer