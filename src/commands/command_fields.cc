#include "commands/command_fields.h"

#include "commands/api_version.h"

#include <bson/bson.h>

#include <map>
#include <string>

#include "bson/type_names.h"

namespace docket::commands {
namespace {

// The BSON types a field accepts (MongoDB's IDL types, as far as they matter).
enum class Type : uint8_t {
  kAny,
  kDocument,
  kArray,
  kString,
  kNumber,            // int, long, double, decimal
  kBool,              // bool or a number (IDL's safeBool / optionalBool)
  kDocumentOrString,  // hint
  kDocumentOrArray,   // an update: operators or a pipeline
  kLong,              // a cursor id
};

enum class Support : uint8_t {
  kYes,              // implemented
  kDefaultOnly,      // the default (false, 0, {}) is accepted; anything else is refused
  kNo,               // refused whenever present
};

struct Field {
  std::string_view name;
  Type type = Type::kAny;
  Support support = Support::kYes;
  std::string_view feature = {};  // what is missing, for kDefaultOnly / kNo
};

struct Command {
  std::vector<Field> fields;
  std::string_view statements = {};  // the array of statement documents, if any
  std::vector<Field> statement_fields = {};
};

constexpr std::string_view kChangeLog =
    "open issue: The change log: insertion order, capped collections, tailable cursors, the oplog, change streams "
    "and causal consistency";
constexpr std::string_view kServerTools =
    "open issue: What operators, ODMs and tools expect of a server: profiler, views, validation, collMod, currentOp, "
    "metrics, explain, logs";

// Accepted by every command (MongoDB's generic arguments); their meaning is
// handled in one place each (sessions and transactions: transactions.cc;
// readConcern below; writeConcern: args.cc).
const std::vector<Field>& GenericFields() {
  static const auto* fields = new std::vector<Field>{
      {"$db", Type::kString},
      {"lsid", Type::kDocument},
      {"txnNumber", Type::kNumber},
      {"autocommit", Type::kBool},
      {"startTransaction", Type::kBool},
      {"stmtId", Type::kNumber},
      {"$clusterTime", Type::kDocument},
      {"$readPreference", Type::kDocument},
      {"$client", Type::kDocument},
      {"$audit", Type::kDocument},
      {"$configServerState", Type::kDocument},
      {"apiVersion", Type::kString},
      {"apiStrict", Type::kBool},
      {"apiDeprecationErrors", Type::kBool},
      {"comment", Type::kAny},
      {"maxTimeMS", Type::kNumber},
      {"readConcern", Type::kDocument},
      {"writeConcern", Type::kDocument},
      {"clientOperationKey", Type::kAny},
      {"mayBypassWriteBlocking", Type::kBool},
  };
  return *fields;
}

const std::map<std::string_view, Command, std::less<>>& Commands() {
  static const auto* commands = new std::map<std::string_view, Command, std::less<>>{
      {"find",
       {{{"filter", Type::kDocument},
         {"projection", Type::kDocument},
         {"sort", Type::kDocument},
         {"hint", Type::kDocumentOrString},
         {"skip", Type::kNumber},
         {"limit", Type::kNumber},
         {"batchSize", Type::kNumber},
         {"singleBatch", Type::kBool},
         {"let", Type::kDocument},
         {"allowDiskUse", Type::kBool},
         {"noCursorTimeout", Type::kBool},
         {"allowPartialResults", Type::kBool},  // one node: there is no part to leave out
         {"readOnce", Type::kBool},             // a storage hint, no effect on answers
         {"oplogReplay", Type::kBool},          // deprecated and ignored by MongoDB 4.4+
         {"collation", Type::kDocument},
         {"min", Type::kDocument},
         {"max", Type::kDocument},
         {"returnKey", Type::kBool, Support::kDefaultOnly, "returnKey"},
         {"showRecordId", Type::kBool, Support::kDefaultOnly, "showRecordId"},
         {"tailable", Type::kBool},
         {"awaitData", Type::kBool}}}},
      {"aggregate",
       {{{"pipeline", Type::kArray},
         {"explain", Type::kBool},
         {"allowDiskUse", Type::kBool},
         {"cursor", Type::kDocument},
         {"hint", Type::kDocumentOrString},
         {"let", Type::kDocument},
         {"bypassDocumentValidation", Type::kBool},
         {"collation", Type::kDocument}}}},
      {"count",
       {{{"query", Type::kDocument},
         {"limit", Type::kNumber},
         {"skip", Type::kNumber},
         {"hint", Type::kDocumentOrString},
         {"fields", Type::kDocument},  // accepted and unused by MongoDB too
         {"collation", Type::kDocument}}}},
      {"distinct",
       {{{"key", Type::kString},
         {"query", Type::kDocument},
         {"collation", Type::kDocument}}}},
      {"insert",
       {{{"documents", Type::kArray},
         {"ordered", Type::kBool},
         {"bypassDocumentValidation", Type::kBool}}}},
      {"update",
       {{{"updates", Type::kArray},
         {"ordered", Type::kBool},
         {"let", Type::kDocument},
         {"bypassDocumentValidation", Type::kBool}},
        "updates",
        {{"q", Type::kDocument},
         {"u", Type::kDocumentOrArray},
         {"c", Type::kDocument},
         {"upsert", Type::kBool},
         {"multi", Type::kBool},
         {"arrayFilters", Type::kArray},
         {"hint", Type::kDocumentOrString},
         {"collation", Type::kDocument}}}},
      {"delete",
       {{{"deletes", Type::kArray},
         {"ordered", Type::kBool},
         {"let", Type::kDocument}},
        "deletes",
        {{"q", Type::kDocument},
         {"limit", Type::kNumber},
         {"hint", Type::kDocumentOrString},
         {"collation", Type::kDocument}}}},
      {"findAndModify",
       {{{"query", Type::kDocument},
         {"sort", Type::kDocument},
         {"remove", Type::kBool},
         {"update", Type::kDocumentOrArray},
         {"new", Type::kBool},
         {"fields", Type::kDocument},
         {"upsert", Type::kBool},
         {"arrayFilters", Type::kArray},
         {"hint", Type::kDocumentOrString},
         {"let", Type::kDocument},
         {"bypassDocumentValidation", Type::kBool},
         {"collation", Type::kDocument}}}},
      {"getMore",
       {{{"collection", Type::kString},
         {"batchSize", Type::kNumber},
         {"term", Type::kNumber},
         {"lastKnownCommittedOpTime", Type::kDocument}}}},
      {"killCursors", {{{"cursors", Type::kArray}}}},
      {"profile", {{{"slowms", Type::kNumber}, {"sampleRate", Type::kNumber}, {"filter", Type::kAny}}}},
      {"create",
       {{{"collation", Type::kDocument},
         {"capped", Type::kBool},
         {"size", Type::kNumber},
         {"max", Type::kNumber},
         {"autoIndexId", Type::kBool, Support::kNo, "autoIndexId"},
         {"idIndex", Type::kDocument, Support::kNo, "idIndex"},
         {"storageEngine", Type::kDocument, Support::kNo, "per-collection storage engine options"},
         {"validator", Type::kDocument},
         {"validationLevel", Type::kString},
         {"validationAction", Type::kString},
         {"indexOptionDefaults", Type::kDocument, Support::kNo, "indexOptionDefaults"},
         {"viewOn", Type::kString},
         {"pipeline", Type::kArray},
         {"timeseries", Type::kDocument, Support::kNo, kServerTools},
         {"clusteredIndex", Type::kAny, Support::kNo, kServerTools},
         {"expireAfterSeconds", Type::kNumber, Support::kNo, kServerTools},
         {"changeStreamPreAndPostImages", Type::kDocument, Support::kNo, kChangeLog},
         {"encryptedFields", Type::kDocument, Support::kNo, "queryable encryption"}}}},
      {"createIndexes",
       {{{"indexes", Type::kArray},
         {"commitQuorum", Type::kAny},  // one member: every quorum is this node
         {"ignoreUnknownIndexOptions", Type::kBool, Support::kDefaultOnly, "ignoreUnknownIndexOptions"}}}},
      {"drop", {{}}},
      {"dropDatabase", {{}}},
      {"dropIndexes", {{{"index", Type::kAny}}}},
      {"listCollections",
       {{{"filter", Type::kDocument},
         {"nameOnly", Type::kBool},
         {"authorizedCollections", Type::kBool},
         {"cursor", Type::kDocument}}}},
      {"listDatabases",
       {{{"filter", Type::kDocument},
         {"nameOnly", Type::kBool},
         {"authorizedDatabases", Type::kBool}}}},
      {"listIndexes", {{{"cursor", Type::kDocument}}}},
      {"cloneCollectionAsCapped", {{{"toCollection", Type::kString}, {"size", Type::kNumber}, {"temp", Type::kBool}}}},
      {"convertToCapped", {{{"size", Type::kNumber}}}},
      {"shutdown", {{{"force", Type::kBool}, {"timeoutSecs", Type::kNumber}}}},
      {"fsync", {{{"lock", Type::kBool}}}},
      {"fsyncUnlock", {{}}},
      {"logRotate", {{}}},
      {"reIndex", {{}}},
      {"explain", {{{"verbosity", Type::kString}}}},
      {"collMod",
       {{{"index", Type::kDocument},
         {"cappedSize", Type::kNumber},
         {"cappedMax", Type::kNumber},
         {"validator", Type::kDocument},
         {"validationLevel", Type::kString},
         {"validationAction", Type::kString},
         {"viewOn", Type::kString},
         {"pipeline", Type::kArray},
         {"expireAfterSeconds", Type::kAny, Support::kNo, kServerTools},
         {"timeseries", Type::kDocument, Support::kNo, kServerTools},
         {"changeStreamPreAndPostImages", Type::kDocument, Support::kNo, kChangeLog},
         {"recordPreImages", Type::kBool, Support::kNo, kChangeLog}}}},
      {"renameCollection",
       {{{"to", Type::kString},
         {"dropTarget", Type::kBool},
         {"stayTemp", Type::kBool}}}},
      {"endSessions", {{}}},
      {"commitTransaction", {{{"recoveryToken", Type::kDocument}}}},
      {"abortTransaction", {{{"recoveryToken", Type::kDocument}}}},
  };
  return *commands;
}

std::string TypeName(const bson_iter_t& it) { return bson::TypeAlias(bson_iter_type(&it)); }

bool IsNumber(bson_type_t t) {
  return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 || t == BSON_TYPE_DOUBLE || t == BSON_TYPE_DECIMAL128;
}

// MongoDB's list of the accepted types, as its IDL prints it.
const char* Expected(Type type) {
  switch (type) {
    case Type::kAny: return "any";
    case Type::kDocument: return "[object]";
    case Type::kArray: return "[array]";
    case Type::kString: return "[string]";
    case Type::kNumber: return "[long, int, decimal, double]";
    case Type::kBool: return "[bool, long, int, decimal, double]";
    case Type::kDocumentOrString: return "[string, object]";
    case Type::kDocumentOrArray: return "[object, array]";
    case Type::kLong: return "[long]";
  }
  return "any";
}

bool HasType(const bson_iter_t& it, Type type) {
  const bson_type_t t = bson_iter_type(&it);
  switch (type) {
    case Type::kAny: return true;
    case Type::kDocument: return t == BSON_TYPE_DOCUMENT;
    case Type::kArray: return t == BSON_TYPE_ARRAY;
    case Type::kString: return t == BSON_TYPE_UTF8;
    case Type::kNumber: return IsNumber(t);
    case Type::kBool: return t == BSON_TYPE_BOOL || IsNumber(t);
    case Type::kDocumentOrString: return t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_UTF8;
    case Type::kDocumentOrArray: return t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_ARRAY;
    case Type::kLong: return t == BSON_TYPE_INT64;
  }
  return false;
}

Document SubDocumentOf(const bson_iter_t& it) {
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  if (BSON_ITER_HOLDS_DOCUMENT(&it)) bson_iter_document(&it, &len, &data);
  else if (BSON_ITER_HOLDS_ARRAY(&it)) bson_iter_array(&it, &len, &data);
  if (data == nullptr) return Document();
  return Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len));
}

// Whether a value is its option's default: false, 0, null or {}.
bool IsDefault(const bson_iter_t& it) {
  if (BSON_ITER_HOLDS_DOCUMENT(&it)) return SubDocumentOf(it).size() <= 5;
  return BSON_ITER_HOLDS_NULL(&it) || !bson_iter_as_bool(&it);
}

Status NotImplemented(const std::string& path, std::string_view feature) {
  return Status(ErrorCode::kNotImplemented, "BSON field '" + path + "' is not supported by Docket yet (" +
                                                std::string(feature) + ")");
}

// readConcern: a level Docket gives on one node, or refused; afterClusterTime
// checked as MongoDB's ReadConcernArgs checks it (its value against the
// server: cluster_time.h).
Status CheckReadConcern(const std::string& command, const bson_iter_t& it, bool in_transaction, bool replica_set) {
  Document concern = SubDocumentOf(it);
  bson_iter_t field;
  concern.Iterate(&field);
  std::string_view level;
  bool after_cluster_time = false;
  while (bson_iter_next(&field)) {
    const std::string_view key = bson_iter_key(&field);
    const std::string path = command + ".readConcern." + std::string(key);
    if (key == "level") {
      if (!BSON_ITER_HOLDS_UTF8(&field)) {
        return Status(ErrorCode::kTypeMismatch, "BSON field '" + path + "' is the wrong type '" + TypeName(field) +
                                                    "', expected type 'string'");
      }
      level = bson_iter_utf8(&field, nullptr);
      // One member: everything committed is majority-committed, and a
      // primary that is the only member reads linearizably.
      if (level == "local" || level == "majority" || level == "available" || level == "linearizable") continue;
      if (level == "snapshot") {
        if (in_transaction) continue;  // a transaction reads one snapshot
        if (!replica_set) {
          return Status(ErrorCode::kNotAReplicaSet, "node needs to be a replica set member to use readConcern: snapshot");
        }
        return NotImplemented(path, std::string("snapshot reads outside a transaction; ") + std::string(kChangeLog));
      }
      return Status(ErrorCode::kBadValue, "BSON field '" + path + "' has an invalid value: '" + std::string(level) +
                                              "' (expected local, majority, available, linearizable or snapshot)");
    }
    if (key == "afterClusterTime") {
      if (!BSON_ITER_HOLDS_TIMESTAMP(&field)) {
        return Status(ErrorCode::kTypeMismatch,
                      "\"afterClusterTime\" had the wrong type. Expected timestamp, found " + TypeName(field));
      }
      uint32_t seconds = 0, increment = 0;
      bson_iter_timestamp(&field, &seconds, &increment);
      if (seconds == 0 && increment == 0) {
        return Status(ErrorCode::kInvalidOptions, "afterClusterTime cannot be a null timestamp");
      }
      after_cluster_time = true;
      continue;
    }
    if (key == "atClusterTime" || key == "afterOpTime") {
      return NotImplemented(path, kChangeLog);
    }
    if (key == "provenance") continue;
    return Status(ErrorCode::kIDLUnknownField, "BSON field '" + path + "' is an unknown field.");
  }
  if (after_cluster_time && (level == "available" || level == "linearizable")) {
    return Status(ErrorCode::kInvalidOptions,
                  "afterClusterTime field can be set only if level is equal to majority, local, or snapshot");
  }
  return Status::OK();
}

Status CheckField(const std::string& path, const bson_iter_t& it, const Field& field) {
  if (!HasType(it, field.type)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + path + "' is the wrong type '" + TypeName(it) +
                                                "', expected types '" + Expected(field.type) + "'");
  }
  switch (field.support) {
    case Support::kYes:
      return Status::OK();
    case Support::kNo:
      return NotImplemented(path, field.feature);
    case Support::kDefaultOnly:
      return IsDefault(it) ? Status::OK() : NotImplemented(path, field.feature);
  }
  return Status::OK();
}

const Field* FindField(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Status CheckStatement(const std::string& prefix, const Document& statement, const std::vector<Field>& fields) {
  bson_iter_t it;
  statement.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view key = bson_iter_key(&it);
    const std::string path = prefix + "." + std::string(key);
    const Field* field = FindField(fields, key);
    if (field == nullptr) return Status(ErrorCode::kIDLUnknownField, "BSON field '" + path + "' is an unknown field.");
    DOCKET_RETURN_IF_ERROR(CheckField(path, it, *field));
  }
  return Status::OK();
}

}  // namespace


Status CheckCommandFields(std::string_view command, const Document& body,
                          const std::vector<wire::DocumentSequence>* sequences, bool replica_set) {
  // Lower-case aliases answer as their command (findandmodify).
  const std::string name = CanonicalCommandName(command);
  const auto& commands = Commands();
  auto found = commands.find(name);
  if (found == commands.end()) return Status::OK();
  const Command& declared = found->second;
  bson_iter_t it;
  body.Iterate(&it);
  bson_iter_next(&it);  // the command's own field: its handler reads it
  bson_iter_t autocommit;
  const bool in_transaction = body.Find("autocommit", &autocommit);
  while (bson_iter_next(&it)) {
    const std::string_view key = bson_iter_key(&it);
    const std::string path = name + "." + std::string(key);
    const Field* field = FindField(declared.fields, key);
    if (field == nullptr) field = FindField(GenericFields(), key);
    if (field == nullptr) return Status(ErrorCode::kIDLUnknownField, "BSON field '" + path + "' is an unknown field.");
    DOCKET_RETURN_IF_ERROR(CheckField(path, it, *field));
    if (key == "readConcern") DOCKET_RETURN_IF_ERROR(CheckReadConcern(name, it, in_transaction, replica_set));
    if (key == declared.statements && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t statement;
      bson_iter_recurse(&it, &statement);
      while (bson_iter_next(&statement)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&statement)) continue;  // the handler names the type error
        DOCKET_RETURN_IF_ERROR(CheckStatement(path, SubDocumentOf(statement), declared.statement_fields));
      }
    }
  }
  if (sequences != nullptr) {
    for (const wire::DocumentSequence& sequence : *sequences) {
      const std::string path = name + "." + sequence.identifier;
      const Field* field = FindField(declared.fields, sequence.identifier);
      if (field == nullptr || field->type != Type::kArray) {
        return Status(ErrorCode::kIDLUnknownField, "BSON field '" + path + "' is an unknown field.");
      }
      if (sequence.identifier != declared.statements) continue;
      for (const Document& statement : sequence.documents) {
        DOCKET_RETURN_IF_ERROR(CheckStatement(path, statement, declared.statement_fields));
      }
    }
  }
  return Status::OK();
}

}  // namespace docket::commands
