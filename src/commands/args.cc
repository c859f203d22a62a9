#include "commands/args.h"

#include <cmath>
#include <cstring>

namespace docket::commands {

Document SubDocument(const bson_iter_t& it) {
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
    bson_iter_document(&it, &len, &data);
  } else if (BSON_ITER_HOLDS_ARRAY(&it)) {
    bson_iter_array(&it, &len, &data);
  }
  if (data == nullptr) return Document();
  return Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len));
}

std::string IterString(const bson_iter_t& it) {
  uint32_t len = 0;
  const char* s = bson_iter_utf8(&it, &len);
  return std::string(s, len);
}

Result<Document> GetDocumentField(const Document& body, const char* key) {
  bson_iter_t it;
  if (!body.Find(key, &it) || BSON_ITER_HOLDS_NULL(&it)) return Document();
  if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
    return Status(ErrorCode::kTypeMismatch, std::string("BSON field '") + key + "' is the wrong type, expected an object");
  }
  return SubDocument(it);
}

Status ReadDocumentField(const Document& body, const char* key, Document* out) {
  auto value = GetDocumentField(body, key);
  if (!value.ok()) return value.status();
  *out = std::move(value).value();
  return Status::OK();
}

Result<std::string> GetStringField(const Document& body, const char* key, bool required) {
  bson_iter_t it;
  if (!body.Find(key, &it)) {
    if (required) return Status(ErrorCode::kFailedToParse, std::string("BSON field '") + key + "' is missing but a required field");
    return std::string();
  }
  if (!BSON_ITER_HOLDS_UTF8(&it)) {
    return Status(ErrorCode::kTypeMismatch, std::string("BSON field '") + key + "' is the wrong type, expected a string");
  }
  uint32_t len = 0;
  const char* s = bson_iter_utf8(&it, &len);
  return std::string(s, len);
}

Result<IndexHint> GetHint(const Document& body) {
  IndexHint hint;
  bson_iter_t it;
  if (!body.Find("hint", &it)) return hint;
  if (BSON_ITER_HOLDS_UTF8(&it)) {
    hint.name = IterString(it);
  } else if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
    hint.key_pattern = SubDocument(it);
  } else {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'hint' is the wrong type, expected a string or an object");
  }
  return hint;
}

Result<int64_t> GetIntField(const Document& body, const char* key, int64_t fallback) {
  bson_iter_t it;
  if (!body.Find(key, &it) || BSON_ITER_HOLDS_NULL(&it)) return fallback;
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32: return static_cast<int64_t>(bson_iter_int32(&it));
    case BSON_TYPE_INT64: return bson_iter_int64(&it);
    case BSON_TYPE_DOUBLE: {
      double d = bson_iter_double(&it);
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
      return Status(ErrorCode::kBadValue, std::string("BSON field '") + key + "' must be an integer");
    }
    default:
      return Status(ErrorCode::kTypeMismatch, std::string("BSON field '") + key + "' is the wrong type, expected a number");
  }
}

bool GetBoolField(const Document& body, const char* key, bool fallback) {
  bson_iter_t it;
  if (!body.Find(key, &it)) return fallback;
  return bson_iter_as_bool(&it);
}

int64_t CountDocumentList(const CommandRequest& request, const char* key) {
  if (request.sequences != nullptr) {
    for (const wire::DocumentSequence& sequence : *request.sequences) {
      if (sequence.identifier == key) return static_cast<int64_t>(sequence.documents.size());
    }
  }
  bson_iter_t list, item;
  if (!request.body->Find(key, &list) || !BSON_ITER_HOLDS_ARRAY(&list) || !bson_iter_recurse(&list, &item)) return 0;
  int64_t n = 0;
  while (bson_iter_next(&item)) ++n;
  return n;
}

Result<std::vector<Document>> GetDocumentList(const CommandRequest& request, const char* key) {
  std::vector<Document> out;
  if (request.sequences != nullptr) {
    for (const wire::DocumentSequence& sequence : *request.sequences) {
      if (sequence.identifier == key) {
        out.insert(out.end(), sequence.documents.begin(), sequence.documents.end());
        return out;
      }
    }
  }
  bson_iter_t present;
  if (!request.body->Find(key, &present)) {
    return Status(ErrorCode::kFailedToParse, std::string("BSON field '") + key + "' is missing but a required field");
  }
  DOCKET_RETURN_IF_ERROR(ReadDocumentArray(*request.body, key, &out));
  return out;
}

Status ReadDocumentArray(const Document& body, const char* key, std::vector<Document>* out) {
  bson_iter_t it;
  if (!body.Find(key, &it)) return Status::OK();
  if (!BSON_ITER_HOLDS_ARRAY(&it)) {
    return Status(ErrorCode::kTypeMismatch, std::string("BSON field '") + key + "' is the wrong type, expected an array");
  }
  bson_iter_t child;
  bson_iter_recurse(&it, &child);
  while (bson_iter_next(&child)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&child)) {
      return Status(ErrorCode::kTypeMismatch, std::string("BSON field '") + key + "' must hold only objects");
    }
    out->push_back(SubDocument(child));
  }
  return Status::OK();
}

Result<WriteConcern> GetWriteConcern(const Document& body) {
  auto wc = GetDocumentField(body, "writeConcern");
  if (!wc.ok()) return wc.status();
  WriteConcern concern;
  concern.journal = GetBoolField(*wc, "j", false) || GetBoolField(*wc, "fsync", false);
  return concern;
}

bool CollectionExists(Engine* engine, const std::string& db, const std::string& name) {
  for (const CollectionInfo& info : engine->ListCollections(db)) {
    if (info.name == name) return true;
  }
  return false;
}

Result<std::string> GetCollectionName(const Document& body) {
  bson_iter_t it;
  bson_iter_init_from_data(&it, body.data(), body.size());
  if (!bson_iter_next(&it) || !BSON_ITER_HOLDS_UTF8(&it)) {
    return Status(ErrorCode::kInvalidNamespace, "collection name must be a string");
  }
  uint32_t len = 0;
  const char* s = bson_iter_utf8(&it, &len);
  if (len == 0) return Status(ErrorCode::kInvalidNamespace, "collection name may not be empty");
  return std::string(s, len);
}

// The collection a command names (its first field, or getMore's
// `collection`), or "" for a command that names none.
std::string CommandCollection(const std::string& name, const Document& body) {
  static const char* const kNamesOne[] = {"find", "insert", "update", "delete", "count", "distinct",
                                          "aggregate", "findAndModify", "findandmodify"};
  bson_iter_t it;
  if (name == "getMore") return body.Find("collection", &it) && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, nullptr) : "";
  for (const char* n : kNamesOne) {
    if (name == n) {
      body.Iterate(&it);
      if (bson_iter_next(&it) && BSON_ITER_HOLDS_UTF8(&it)) return bson_iter_utf8(&it, nullptr);
      return "";
    }
  }
  return "";
}

Status AdminOnly(const CommandRequest& request, const char* command) {
  if (request.db == "admin") return Status::OK();
  return Status(ErrorCode::kUnauthorized, std::string(command) + " may only be run against the admin database.");
}

}  // namespace docket::commands
