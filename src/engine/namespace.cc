#include "engine/namespace.h"

#include <string>

namespace docket::engine {

namespace {
constexpr size_t kMaxDatabaseNameLength = 63;
constexpr size_t kMaxNamespaceLength = 255;  // "db.collection"
}  // namespace

Status ValidateDatabaseName(std::string_view db) {
  if (db.empty()) return Status(ErrorCode::kInvalidNamespace, "database name cannot be empty");
  if (db.size() > kMaxDatabaseNameLength) {
    return Status(ErrorCode::kInvalidNamespace,
                  "db name is too long: '" + std::string(db) + "' (at most 63 characters)");
  }
  for (char c : db) {
    if (c == '/' || c == '\\' || c == '.' || c == ' ' || c == '"' || c == '$' || c == '\0' || c == '*' ||
        c == '<' || c == '>' || c == ':' || c == '|' || c == '?') {
      return Status(ErrorCode::kInvalidNamespace, "Invalid database name: '" + std::string(db) + "'");
    }
  }
  return Status::OK();
}

Status ValidateCollectionName(std::string_view db, std::string_view collection) {
  DOCKET_RETURN_IF_ERROR(ValidateDatabaseName(db));
  std::string full = std::string(db) + "." + std::string(collection);
  if (collection.empty()) return Status(ErrorCode::kInvalidNamespace, "Invalid namespace specified '" + full + "'");
  if (collection.find('\0') != std::string_view::npos || collection.find('$') != std::string_view::npos ||
      collection.front() == '.') {
    return Status(ErrorCode::kInvalidNamespace, "Invalid collection name: " + std::string(collection));
  }
  // The system collections a client may use: admin.system.version holds the
  // feature compatibility version (docket serve writes it at start);
  // <db>.system.profile the profiler's entries (a capped collection clients
  // read, create and drop; the server refuses their writes to it).
  const bool allowed_system = (db == "admin" && collection == "system.version") || collection == "system.profile";
  if (collection.rfind("system.", 0) == 0 && !allowed_system) {
    return Status(ErrorCode::kInvalidNamespace, "Invalid system namespace: " + full);
  }
  if (full.size() > kMaxNamespaceLength) {
    return Status(ErrorCode::kInvalidNamespace,
                  "Fully qualified namespace is too long. Namespace: " + full + " Max: 255");
  }
  return Status::OK();
}

}  // namespace docket::engine
