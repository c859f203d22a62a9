#include "commands/write_concern.h"

#include <bson/bson.h>

#include "bson/builder.h"

namespace docket::commands {
namespace {

Status Malformed(const std::string& why) { return Status(ErrorCode::kFailedToParse, why); }

bool IsNumber(const bson_iter_t& it) {
  return BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_DOUBLE(&it) ||
         BSON_ITER_HOLDS_DECIMAL128(&it);
}

// Commands that read only: MongoDB refuses a writeConcern on them.
bool TakesNoWriteConcern(std::string_view command, const Document& body) {
  if (command == "find" || command == "count" || command == "distinct" || command == "getMore" ||
      command == "killCursors" || command == "listCollections" || command == "listIndexes" ||
      command == "listDatabases") {
    return true;
  }
  if (command != "aggregate") return false;
  // An aggregation takes one when it writes ($out or $merge last).
  bson_iter_t pipeline, stage, name;
  if (!body.Find("pipeline", &pipeline) || !BSON_ITER_HOLDS_ARRAY(&pipeline)) return false;
  bson_iter_recurse(&pipeline, &stage);
  bool writes = false;
  while (bson_iter_next(&stage)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&stage) || !bson_iter_recurse(&stage, &name) || !bson_iter_next(&name)) continue;
    const std::string_view op = bson_iter_key(&name);
    writes = op == "$out" || op == "$merge";
  }
  return !writes;
}

}  // namespace

Result<ParsedWriteConcern> ParseWriteConcern(const Document& body) {
  ParsedWriteConcern out;
  bson_iter_t it;
  if (!body.Find("writeConcern", &it)) return out;
  if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'writeConcern' is the wrong type, expected an object");
  }
  out.present = true;
  bson_iter_t field;
  bson_iter_recurse(&it, &field);
  bool fsync = false;
  while (bson_iter_next(&field)) {
    const std::string_view key = bson_iter_key(&field);
    if (key == "w") {
      if (IsNumber(field)) {
        const double w = bson_iter_as_double(&field);
        if (w < 0 || w > 50 || w != static_cast<double>(static_cast<int64_t>(w))) {
          return Malformed("w has to be a non-negative integer, at most 50");
        }
        out.w_nodes = static_cast<int64_t>(w);
      } else if (BSON_ITER_HOLDS_UTF8(&field)) {
        out.w_mode = bson_iter_utf8(&field, nullptr);
        if (out.w_mode.empty()) return Malformed("w: the empty string is not a write concern mode");
      } else {
        return Malformed("w has to be a number or a string");
      }
    } else if (key == "j") {
      if (!BSON_ITER_HOLDS_BOOL(&field) && !IsNumber(field)) return Malformed("j must be numeric or a boolean value");
      out.journal = out.journal || bson_iter_as_bool(&field);
    } else if (key == "fsync") {
      if (!BSON_ITER_HOLDS_BOOL(&field) && !IsNumber(field)) return Malformed("fsync must be numeric or a boolean value");
      fsync = bson_iter_as_bool(&field);
    } else if (key == "wtimeout" || key == "wtimeoutMS") {
      if (!IsNumber(field)) return Malformed("wtimeout must be a number");
    } else if (key == "provenance" || key == "getLastError" || key == "getlasterror" || key == "wOpTime" ||
               key == "wElectionId") {
      continue;  // accepted by MongoDB's parser; nothing for one node to do
    } else {
      return Malformed("unrecognized write concern field: " + std::string(key));
    }
  }
  if (fsync && out.journal) return Malformed("fsync and j options cannot be used together");
  out.journal = out.journal || fsync;  // on one node, fsync: true is a journal sync
  return out;
}

Status CheckWriteConcern(std::string_view command, const Document& body, const ParsedWriteConcern& concern,
                         bool replica_set) {
  if (!concern.present) return Status::OK();
  if (TakesNoWriteConcern(command, body)) {
    return Status(ErrorCode::kInvalidOptions, "Command does not support writeConcern");
  }
  if (replica_set) return Status::OK();
  if (concern.w_nodes && *concern.w_nodes > 1) return Status(ErrorCode::kBadValue, "cannot use 'w' > 1 on a standalone");
  if (!concern.w_mode.empty() && concern.w_mode != "majority") {
    return Status(ErrorCode::kBadValue,
                  "cannot use non-majority 'w' mode " + concern.w_mode + " on a host not in a replica set");
  }
  return Status::OK();
}

std::optional<Document> UnsatisfiedWriteConcernError(const ParsedWriteConcern& concern) {
  ErrorCode code;
  std::string message;
  if (concern.w_nodes && *concern.w_nodes > 1) {
    code = ErrorCode::kUnsatisfiableWriteConcern;
    message = "Not enough data-bearing nodes";
  } else if (!concern.w_mode.empty() && concern.w_mode != "majority") {
    code = ErrorCode::kUnknownReplWriteConcern;
    message = "No write concern mode named '" + concern.w_mode + "' found in replica set configuration";
  } else {
    return std::nullopt;
  }
  bson::Builder error;
  BSON_APPEND_INT32(error.get(), "code", static_cast<int32_t>(code));
  BSON_APPEND_UTF8(error.get(), "codeName", ErrorCodeName(code).c_str());
  BSON_APPEND_UTF8(error.get(), "errmsg", message.c_str());
  return error.Finish();
}

}  // namespace docket::commands
