#include "commands/cluster_time.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "bson/append_element.h"
#include "bson/builder.h"
#include "bson/type_names.h"
#include "commands/args.h"

namespace docket::commands {
namespace {

std::string TypeName(const bson_iter_t& it) { return bson::TypeAlias(bson_iter_type(&it)); }

Status WrongType(const char* field, const char* expected, const bson_iter_t& it) {
  return Status(ErrorCode::kTypeMismatch, std::string("\"") + field + "\" had the wrong type. Expected " + expected +
                                              ", found " + TypeName(it));
}

Status Missing(const char* field) {
  return Status(ErrorCode::kNoSuchKey, std::string("Missing expected field \"") + field + "\"");
}

std::string Describe(LogicalTime t) {
  return "Timestamp(" + std::to_string(t.seconds) + ", " + std::to_string(t.increment) + ")";
}

}  // namespace

Result<LogicalTime> GossipedClusterTime(const Document& body) {
  bson_iter_t it;
  if (!body.Find("$clusterTime", &it)) return LogicalTime{};
  if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
    return Status(ErrorCode::kNotAnObjectClusterTime, "invalid parameter: expected an object ($clusterTime)");
  }
  const Document gossip = SubDocument(it);
  bson_iter_t time, signature;
  if (!gossip.Find("clusterTime", &time)) return Missing("clusterTime");
  if (!BSON_ITER_HOLDS_TIMESTAMP(&time)) return WrongType("clusterTime", "timestamp", time);
  if (!gossip.Find("signature", &signature)) return Missing("signature");
  if (!BSON_ITER_HOLDS_DOCUMENT(&signature)) return WrongType("signature", "object", signature);
  // Without authentication the signature is not checked, only its shape.
  const Document signed_by = SubDocument(signature);
  bson_iter_t hash, key_id;
  if (!signed_by.Find("hash", &hash)) return Missing("hash");
  if (!BSON_ITER_HOLDS_BINARY(&hash)) return WrongType("hash", "binData", hash);
  bson_subtype_t subtype;
  uint32_t length = 0;
  const uint8_t* bytes = nullptr;
  bson_iter_binary(&hash, &subtype, &length, &bytes);
  if (subtype != BSON_SUBTYPE_BINARY) {
    return Status(ErrorCode::kUnsupportedFormat, "hash only accepts BinDataGeneral type");
  }
  if (length != 20) {
    return Status(ErrorCode::kUnsupportedFormat, "Unsupported hash length: " + std::to_string(length));
  }
  if (!signed_by.Find("keyId", &key_id)) return Missing("keyId");
  // A number of any type: drivers send back the Int64 0 they were given as
  // what their language made of it (the Node.js driver: an int32).
  if (!BSON_ITER_HOLDS_NUMBER(&key_id)) return WrongType("keyId", "long", key_id);
  LogicalTime t;
  bson_iter_timestamp(&time, &t.seconds, &t.increment);
  return t;
}

Status CheckReadConcernAgainstServer(const Document& body, bool replica_set, const ClusterClock& clock) {
  auto concern = GetDocumentField(body, "readConcern");
  if (!concern.ok()) return Status::OK();
  bson_iter_t level;
  if (!replica_set && concern->Find("level", &level) && BSON_ITER_HOLDS_UTF8(&level) &&
      std::string_view(bson_iter_utf8(&level, nullptr)) == "linearizable") {
    return Status(ErrorCode::kNotAReplicaSet, "node needs to be a replica set member to use read concern");
  }
  bson_iter_t after;
  if (!concern->Find("afterClusterTime", &after) || !BSON_ITER_HOLDS_TIMESTAMP(&after)) return Status::OK();
  if (!replica_set) {
    return Status(ErrorCode::kIllegalOperation, "Cannot specify afterClusterTime readConcern without replication enabled");
  }
  LogicalTime asked;
  bson_iter_timestamp(&after, &asked.seconds, &asked.increment);
  const LogicalTime now = clock.Now();
  if (now < asked) {
    return Status(ErrorCode::kInvalidOptions,
                  "readConcern afterClusterTime value must not be greater than the current clusterTime. Requested "
                  "clusterTime: " + Describe(asked) + "; current clusterTime: " + Describe(now));
  }
  // A write at or below `asked` may have its time but not have committed
  // yet (it is between the oplog's Reserve and Publish): wait for it.
  if (!clock.WaitUntilVisible(asked, std::chrono::steady_clock::now() + std::chrono::seconds(60))) {
    return Status(ErrorCode::kMaxTimeMSExpired, "timed out waiting for the write at " + Describe(asked) + " to commit");
  }
  return Status::OK();
}

bool IsWriteCommand(std::string_view name, const Document& body) {
  bson_iter_t autocommit;
  if (body.Find("autocommit", &autocommit)) return false;  // inside a transaction
  if (name == "insert" || name == "update" || name == "delete" || name == "findAndModify" ||
      name == "findandmodify" || name == "create" || name == "drop" || name == "dropDatabase" ||
      name == "renameCollection" || name == "createIndexes" || name == "dropIndexes" || name == "collMod") {
    return true;
  }
  return name == "aggregate" && PipelineWrites(body);
}

bool PipelineWrites(const Document& aggregate) {
  bson_iter_t pipeline, stage, first;
  if (!aggregate.Find("pipeline", &pipeline) || !BSON_ITER_HOLDS_ARRAY(&pipeline)) return false;
  bson_iter_recurse(&pipeline, &stage);
  while (bson_iter_next(&stage)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&stage) || !bson_iter_recurse(&stage, &first) || !bson_iter_next(&first)) continue;
    const std::string_view key = bson_iter_key(&first);
    if (key == "$out" || key == "$merge") return true;
  }
  return false;
}

Document WithClusterTimes(const Document& reply, LogicalTime operation_time, LogicalTime cluster_time) {
  bson::Builder out;
  bson_iter_t it;
  reply.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view key = bson_iter_key(&it);
    if (key == "$clusterTime" || key == "operationTime") continue;
    bson::AppendElement(out.get(), key.data(), static_cast<int>(key.size()), &it);
  }
  bson_t gossip, signature;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "$clusterTime", &gossip);
  BSON_APPEND_TIMESTAMP(&gossip, "clusterTime", cluster_time.seconds, cluster_time.increment);
  BSON_APPEND_DOCUMENT_BEGIN(&gossip, "signature", &signature);
  static const uint8_t kNoHash[20] = {};
  BSON_APPEND_BINARY(&signature, "hash", BSON_SUBTYPE_BINARY, kNoHash, sizeof kNoHash);
  BSON_APPEND_INT64(&signature, "keyId", 0);
  bson_append_document_end(&gossip, &signature);
  bson_append_document_end(out.get(), &gossip);
  BSON_APPEND_TIMESTAMP(out.get(), "operationTime", operation_time.seconds, operation_time.increment);
  return out.Finish();
}

}  // namespace docket::commands
