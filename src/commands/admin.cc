// The handshake (hello / isMaster), catalog commands (create, drop,
// listCollections, ...) and the diagnostic commands drivers and shells send
// on connect (buildInfo, getParameter, serverStatus, ...).
#include <unistd.h>

#include <algorithm>

#include <cstdio>

#include <thread>

#include "bson/builder.h"
#include "docket_build_info.h"
#include "commands/args.h"
#include "commands/handlers.h"
#include "query/filter.h"
#include "wire/compression.h"

namespace docket::commands {
namespace {

constexpr int32_t kMaxBsonObjectSize = 16 * 1024 * 1024;
constexpr const char* kCompatibleVersion = "6.0.0";  // the MongoDB version whose semantics Docket follows

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AppendStringArray(bson_t* parent, const char* key, const std::vector<std::string>& values) {
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(parent, key, &array);
  for (size_t i = 0; i < values.size(); ++i) BSON_APPEND_UTF8(&array, std::to_string(i).c_str(), values[i].c_str());
  bson_append_array_end(parent, &array);
}

}  // namespace

Status Hello(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  const std::string name = CommandName(*request.body);
  // The handshake names the application (client.application.name), which
  // test fail points may target.
  bson_iter_t app;
  if (request.body->Find("client", &app) && BSON_ITER_HOLDS_DOCUMENT(&app)) {
    Document client = SubDocument(app);
    bson_iter_t app_name;
    if (client.Find("application", &app) && BSON_ITER_HOLDS_DOCUMENT(&app)) {
      Document application = SubDocument(app);
      if (application.Find("name", &app_name) && BSON_ITER_HOLDS_UTF8(&app_name)) {
        context.connection.app_name = bson_iter_utf8(&app_name, nullptr);
      }
    }
  }
  // `hello` answers isWritablePrimary; the legacy forms answer ismaster.
  if (name == "hello") {
    BSON_APPEND_BOOL(reply, "isWritablePrimary", true);
  } else {
    BSON_APPEND_BOOL(reply, "ismaster", true);
  }
  BSON_APPEND_BOOL(reply, "helloOk", true);
  BSON_APPEND_INT32(reply, "maxBsonObjectSize", kMaxBsonObjectSize);
  BSON_APPEND_INT32(reply, "maxMessageSizeBytes", wire::kMaxMessageSize);
  BSON_APPEND_INT32(reply, "maxWriteBatchSize", 100000);
  BSON_APPEND_DATE_TIME(reply, "localTime", NowMillis());
  BSON_APPEND_INT32(reply, "logicalSessionTimeoutMinutes", 30);
  BSON_APPEND_INT64(reply, "connectionId", context.connection.id);
  BSON_APPEND_INT32(reply, "minWireVersion", 0);
  BSON_APPEND_INT32(reply, "maxWireVersion", 17);
  BSON_APPEND_BOOL(reply, "readOnly", false);
  if (!context.server.replica_set.empty()) {
    // A one-member replica set, always primary: drivers then run
    // transactions and retryable writes (transactions.cc).
    const std::string& me = context.server.advertised_host;
    BSON_APPEND_UTF8(reply, "setName", context.server.replica_set.c_str());
    BSON_APPEND_INT32(reply, "setVersion", 1);
    AppendStringArray(reply, "hosts", {me});
    BSON_APPEND_UTF8(reply, "primary", me.c_str());
    BSON_APPEND_UTF8(reply, "me", me.c_str());
    BSON_APPEND_BOOL(reply, "secondary", false);
    bson_oid_t election;
    bson_oid_init_from_string(&election, "7fffffff0000000000000001");
    BSON_APPEND_OID(reply, "electionId", &election);
    // The last write's cluster time (cluster_time.h), as replSetGetStatus's optimes.
    const LogicalTime written = context.server.clock().LastWrite();
    bson_t last_write, op_time;
    BSON_APPEND_DOCUMENT_BEGIN(reply, "lastWrite", &last_write);
    BSON_APPEND_DOCUMENT_BEGIN(&last_write, "opTime", &op_time);
    BSON_APPEND_TIMESTAMP(&op_time, "ts", written.seconds, written.increment);
    BSON_APPEND_INT64(&op_time, "t", 1);
    bson_append_document_end(&last_write, &op_time);
    BSON_APPEND_DATE_TIME(&last_write, "lastWriteDate", int64_t{written.seconds} * 1000);
    BSON_APPEND_DOCUMENT_BEGIN(&last_write, "majorityOpTime", &op_time);
    BSON_APPEND_TIMESTAMP(&op_time, "ts", written.seconds, written.increment);
    BSON_APPEND_INT64(&op_time, "t", 1);
    bson_append_document_end(&last_write, &op_time);
    BSON_APPEND_DATE_TIME(&last_write, "majorityWriteDate", int64_t{written.seconds} * 1000);
    bson_append_document_end(reply, &last_write);
  }
  // Compression: the client's list, in its order of preference, cut to what
  // this server speaks (OP_COMPRESSED, wire/compression.h).
  bson_iter_t offered;
  if (request.body->Find("compression", &offered) && BSON_ITER_HOLDS_ARRAY(&offered)) {
    std::vector<std::string> agreed;
    bson_iter_t name;
    bson_iter_recurse(&offered, &name);
    while (bson_iter_next(&name)) {
      if (!BSON_ITER_HOLDS_UTF8(&name)) continue;
      const std::string n = bson_iter_utf8(&name, nullptr);
      auto compressor = wire::CompressorFromName(n);
      if (compressor && *compressor != wire::Compressor::kNoop) agreed.push_back(n);
    }
    AppendStringArray(reply, "compression", agreed);
  }
  return Status::OK();
}

Status Ping(CommandContext&, const CommandRequest&, bson_t*) { return Status::OK(); }

Status BuildInfo(CommandContext&, const CommandRequest&, bson_t* reply) {
  BSON_APPEND_UTF8(reply, "version", kCompatibleVersion);
  BSON_APPEND_UTF8(reply, "gitVersion", DOCKET_GIT_COMMIT);  // Docket's own commit
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(reply, "versionArray", &array);
  BSON_APPEND_INT32(&array, "0", 6);
  BSON_APPEND_INT32(&array, "1", 0);
  BSON_APPEND_INT32(&array, "2", 0);
  BSON_APPEND_INT32(&array, "3", 0);
  bson_append_array_end(reply, &array);
  BSON_APPEND_INT32(reply, "bits", 64);
  BSON_APPEND_BOOL(reply, "debug", false);
  BSON_APPEND_INT32(reply, "maxBsonObjectSize", kMaxBsonObjectSize);
  AppendStringArray(reply, "storageEngines", {"docket"});
  BSON_APPEND_UTF8(reply, "docketVersion", DOCKET_VERSION);
  return Status::OK();
}

Status ListDatabases(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  const bool name_only = GetBoolField(*request.body, "nameOnly", false);
  auto filter_doc = GetDocumentField(*request.body, "filter");
  if (!filter_doc.ok()) return filter_doc.status();
  auto filter = query::Filter::Compile(*filter_doc);
  if (!filter.ok()) return filter.status();
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(reply, "databases", &array);
  size_t i = 0;
  int64_t total = 0;
  for (const std::string& db : context.server.engine->ListDatabases()) {
    bson::Builder entry;
    BSON_APPEND_UTF8(entry.get(), "name", db.c_str());
    if (!name_only) {
      auto size = context.server.engine->DatabaseStorageSize(db);
      if (!size.ok()) return size.status();
      BSON_APPEND_INT64(entry.get(), "sizeOnDisk", *size);
      BSON_APPEND_BOOL(entry.get(), "empty", context.server.engine->ListCollections(db).empty());
    }
    Document doc = entry.Finish();
    if (!filter->Matches(doc)) continue;
    bson_iter_t size;
    if (doc.Find("sizeOnDisk", &size)) total += bson_iter_as_int64(&size);
    bson::AppendDocument(&array, std::to_string(i++).c_str(), doc);
  }
  bson_append_array_end(reply, &array);
  if (!name_only) BSON_APPEND_INT64(reply, "totalSize", total);
  return Status::OK();
}

Status ListCollections(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  const bool name_only = GetBoolField(*request.body, "nameOnly", false);
  auto filter_doc = GetDocumentField(*request.body, "filter");
  if (!filter_doc.ok()) return filter_doc.status();
  auto filter = query::Filter::Compile(*filter_doc);
  if (!filter.ok()) return filter.status();
  std::vector<Document> batch;
  for (const CollectionInfo& info : context.server.engine->ListCollections(request.db)) {
    bson::Builder entry;
    if (info.view) {
      AppendViewEntry(entry.get(), info, name_only);
      Document doc = entry.Finish();
      if (filter->Matches(doc)) batch.push_back(std::move(doc));
      continue;
    }
    BSON_APPEND_UTF8(entry.get(), "name", info.name.c_str());
    BSON_APPEND_UTF8(entry.get(), "type", "collection");
    if (!name_only) {
      bson_t options, details, id_index, key;
      BSON_APPEND_DOCUMENT_BEGIN(entry.get(), "options", &options);
      if (info.capped) {
        BSON_APPEND_BOOL(&options, "capped", true);
        BSON_APPEND_INT64(&options, "size", info.capped_size);
        if (info.capped_max > 0) BSON_APPEND_INT64(&options, "max", info.capped_max);
      }
      if (info.validated) {
        if (!info.validator.empty()) bson::AppendDocument(&options, "validator", info.validator);
        BSON_APPEND_UTF8(&options, "validationLevel", info.validation_level.c_str());
        BSON_APPEND_UTF8(&options, "validationAction", info.validation_action.c_str());
      }
      if (!info.collation.empty()) bson::AppendDocument(&options, "collation", info.collation);
      bson_append_document_end(entry.get(), &options);
      BSON_APPEND_DOCUMENT_BEGIN(entry.get(), "info", &details);
      BSON_APPEND_BOOL(&details, "readOnly", false);
      BSON_APPEND_BINARY(&details, "uuid", BSON_SUBTYPE_UUID, reinterpret_cast<const uint8_t*>(info.uuid.data()),
                         static_cast<uint32_t>(info.uuid.size()));
      bson_append_document_end(entry.get(), &details);
      BSON_APPEND_DOCUMENT_BEGIN(entry.get(), "idIndex", &id_index);
      BSON_APPEND_INT32(&id_index, "v", 2);
      BSON_APPEND_DOCUMENT_BEGIN(&id_index, "key", &key);
      BSON_APPEND_INT32(&key, "_id", 1);
      bson_append_document_end(&id_index, &key);
      BSON_APPEND_UTF8(&id_index, "name", "_id_");
      if (!info.collation.empty()) bson::AppendDocument(&id_index, "collation", info.collation);
      bson_append_document_end(entry.get(), &id_index);
    }
    Document doc = entry.Finish();
    if (filter->Matches(doc)) batch.push_back(std::move(doc));
  }
  AppendCursorReply(reply, "firstBatch", batch, 0, request.db + ".$cmd.listCollections");
  return Status::OK();
}

Status Create(CommandContext& context, const CommandRequest& request, bson_t*) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  // Its options were checked against what Docket implements (command_fields.cc).
  auto options = ReadCollectionOptions(*request.body);
  if (!options.ok()) return options.status();
  return context.server.engine->CreateCollection(request.db, *name, *options, request.txn);
}

Status Drop(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  int indexes_was = 0;
  DOCKET_RETURN_IF_ERROR(context.server.engine->DropCollection(request.db, *name, &indexes_was));
  if (indexes_was >= 0) BSON_APPEND_INT32(reply, "nIndexesWas", indexes_was);  // none for a view
  BSON_APPEND_UTF8(reply, "ns", (request.db + "." + *name).c_str());
  return Status::OK();
}

Status DropDatabase(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(context.server.engine->DropDatabase(request.db));
  BSON_APPEND_UTF8(reply, "dropped", request.db.c_str());
  return Status::OK();
}

Status RenameCollection(CommandContext& context, const CommandRequest& request, bson_t*) {
  if (request.db != "admin") return Status(ErrorCode::kIllegalOperation, "renameCollection may only be run against the admin database.");
  auto from = GetStringField(*request.body, "renameCollection", true);
  if (!from.ok()) return from.status();
  auto to = GetStringField(*request.body, "to", true);
  if (!to.ok()) return to.status();
  auto split = [](const std::string& ns, std::string* db, std::string* coll) {
    size_t dot = ns.find('.');
    if (dot == std::string::npos) return false;
    *db = ns.substr(0, dot);
    *coll = ns.substr(dot + 1);
    return true;
  };
  std::string from_db, from_coll, to_db, to_coll;
  if (!split(*from, &from_db, &from_coll) || !split(*to, &to_db, &to_coll)) {
    return Status(ErrorCode::kInvalidNamespace, "Invalid namespace specified");
  }
  return context.server.engine->RenameCollection(from_db, from_coll, to_db, to_coll,
                                                 GetBoolField(*request.body, "dropTarget", false));
}

// endSessions: [{id: UUID}, ...]; their transactions are aborted.
Status EndSessions(CommandContext& context, const CommandRequest& request, bson_t*) {
  bson_iter_t it, item, id;
  if (!request.body->Find("endSessions", &it) || !BSON_ITER_HOLDS_ARRAY(&it)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'endSessions' is the wrong type, expected an array");
  }
  bson_iter_recurse(&it, &item);
  while (bson_iter_next(&item)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&item)) continue;
    Document session = SubDocument(item);
    if (!session.Find("id", &id) || !BSON_ITER_HOLDS_BINARY(&id)) continue;
    bson_subtype_t subtype;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_binary(&id, &subtype, &len, &data);
    const std::string lsid(reinterpret_cast<const char*>(data), len);
    context.server.sessions.End(lsid);
    context.server.cursors.KillSession(lsid);
  }
  return Status::OK();
}

Status WhatsMyUri(CommandContext& context, const CommandRequest&, bson_t* reply) {
  BSON_APPEND_UTF8(reply, "you", context.connection.remote.c_str());
  return Status::OK();
}

Status ConnectionStatus(CommandContext&, const CommandRequest&, bson_t* reply) {
  bson_t info, users, roles;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "authInfo", &info);
  BSON_APPEND_ARRAY_BEGIN(&info, "authenticatedUsers", &users);
  bson_append_array_end(&info, &users);
  BSON_APPEND_ARRAY_BEGIN(&info, "authenticatedUserRoles", &roles);
  bson_append_array_end(&info, &roles);
  bson_append_document_end(reply, &info);
  return Status::OK();
}

// logRotate (admin only): the --logpath file renamed and started afresh, as
// mongod's rotation; on standard error there is nothing to rename.
Status LogRotate(CommandContext& context, const CommandRequest& request, bson_t*) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "logRotate"));
  if (!context.server.rotate_log) return Status(ErrorCode::kCommandNotSupported, "this server cannot rotate its log");
  return context.server.rotate_log();
}

Status GetCmdLineOpts(CommandContext& context, const CommandRequest&, bson_t* reply) {
  AppendStringArray(reply, "argv", context.server.argv);
  bson::AppendDocument(reply, "parsed", context.server.parsed_options);
  return Status::OK();
}

Status HostInfo(CommandContext&, const CommandRequest&, bson_t* reply) {
  char hostname[256] = {0};
  gethostname(hostname, sizeof(hostname) - 1);
  bson_t system, os;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "system", &system);
  BSON_APPEND_DATE_TIME(&system, "currentTime", NowMillis());
  BSON_APPEND_UTF8(&system, "hostname", hostname);
  BSON_APPEND_INT32(&system, "cpuAddrSize", 64);
  BSON_APPEND_INT32(&system, "numCores", static_cast<int32_t>(std::thread::hardware_concurrency()));
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
  BSON_APPEND_INT64(&system, "memSizeMB", static_cast<int64_t>(pages) * page_size / (1024 * 1024));
  bson_append_document_end(reply, &system);
  BSON_APPEND_DOCUMENT_BEGIN(reply, "os", &os);
  BSON_APPEND_UTF8(&os, "type", "Linux");
  bson_append_document_end(reply, &os);
  return Status::OK();
}

Status ServerStatus(CommandContext& context, const CommandRequest&, bson_t* reply) {
  const auto uptime = std::chrono::system_clock::now() - context.server.started;
  BSON_APPEND_UTF8(reply, "host", context.server.host.c_str());
  BSON_APPEND_UTF8(reply, "version", kCompatibleVersion);
  BSON_APPEND_UTF8(reply, "process", "docket");
  BSON_APPEND_INT64(reply, "pid", static_cast<int64_t>(getpid()));
  BSON_APPEND_INT64(reply, "uptime", std::chrono::duration_cast<std::chrono::seconds>(uptime).count());
  BSON_APPEND_INT64(reply, "uptimeMillis", std::chrono::duration_cast<std::chrono::milliseconds>(uptime).count());
  BSON_APPEND_DATE_TIME(reply, "localTime", NowMillis());
  bson_t connections;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "connections", &connections);
  const int64_t current = context.server.connections_current.load();
  BSON_APPEND_INT32(&connections, "current", static_cast<int32_t>(current));
  BSON_APPEND_INT32(&connections, "available", static_cast<int32_t>(context.server.max_connections - current));
  BSON_APPEND_INT64(&connections, "totalCreated", context.server.connections_total.load());
  bson_append_document_end(reply, &connections);
  BSON_APPEND_INT64(reply, "openCursors", static_cast<int64_t>(context.server.cursors.size()));
  bson_t storage_engine, docket, cache;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "storageEngine", &storage_engine);
  BSON_APPEND_UTF8(&storage_engine, "name", "docket");
  BSON_APPEND_BOOL(&storage_engine, "supportsCommittedReads", true);
  BSON_APPEND_BOOL(&storage_engine, "readOnly", false);
  bson_append_document_end(reply, &storage_engine);
  // Docket's own section: what its caches (--cache-size, --row-cache-size) hold.
  const Engine::CacheUsage usage = context.server.engine->cache_usage();
  BSON_APPEND_DOCUMENT_BEGIN(reply, "docket", &docket);
  BSON_APPEND_DOCUMENT_BEGIN(&docket, "cache", &cache);
  BSON_APPEND_INT64(&cache, "blockBytes", static_cast<int64_t>(usage.blocks));
  BSON_APPEND_INT64(&cache, "blockCapacityBytes", static_cast<int64_t>(usage.blocks_capacity));
  BSON_APPEND_INT64(&cache, "rowBytes", static_cast<int64_t>(usage.rows));
  BSON_APPEND_INT64(&cache, "rowCapacityBytes", static_cast<int64_t>(usage.rows_capacity));
  bson_append_document_end(&docket, &cache);
  bson_append_document_end(reply, &docket);
  bson_t network, compression;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "network", &network);
  BSON_APPEND_DOCUMENT_BEGIN(&network, "compression", &compression);
  for (int id = 1; id <= 3; ++id) {
    bson_t one, decompressor;
    BSON_APPEND_DOCUMENT_BEGIN(&compression, wire::CompressorName(static_cast<wire::Compressor>(id)), &one);
    BSON_APPEND_DOCUMENT_BEGIN(&one, "decompressor", &decompressor);
    BSON_APPEND_INT64(&decompressor, "messages", context.server.compressed_messages_in[id].load());
    bson_append_document_end(&one, &decompressor);
    bson_append_document_end(&compression, &one);
  }
  bson_append_document_end(&network, &compression);
  context.server.metrics.AppendNetwork(&network);
  bson_append_document_end(reply, &network);
  context.server.metrics.AppendSections(reply);
  // mem, in MiB as mongod reports it: the process's resident and virtual size.
  long pages_virtual = 0, pages_resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages_virtual, &pages_resident) != 2) pages_virtual = pages_resident = 0;
    std::fclose(statm);
  }
  const int64_t page = sysconf(_SC_PAGESIZE);
  bson_t mem;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "mem", &mem);
  BSON_APPEND_INT32(&mem, "bits", 64);
  BSON_APPEND_INT64(&mem, "resident", pages_resident * page >> 20);
  BSON_APPEND_INT64(&mem, "virtual", pages_virtual * page >> 20);
  BSON_APPEND_BOOL(&mem, "supported", pages_virtual > 0);
  bson_append_document_end(reply, &mem);
  return Status::OK();
}

// getLog: "*" names the logs; "startupWarnings" returns the warnings the
// server started with; "global" the server's last 1,024 log lines
// (commands/ram_log.h), in mongod's JSON log format.
Status GetLog(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  bson_iter_t it;
  const std::string which = request.body->Find("getLog", &it) && BSON_ITER_HOLDS_UTF8(&it)
                                ? std::string(bson_iter_utf8(&it, nullptr))
                                : std::string();
  if (which == "*") {
    AppendStringArray(reply, "names", {"global", "startupWarnings"});
    return Status::OK();
  }
  if (which == "global") {
    const std::vector<std::string> lines = context.server.global_log.Lines();
    BSON_APPEND_INT32(reply, "totalLinesWritten", static_cast<int32_t>(context.server.global_log.total()));
    AppendStringArray(reply, "log", lines);
    return Status::OK();
  }
  const std::vector<std::string> none;
  const std::vector<std::string>& lines = which == "startupWarnings" ? context.server.startup_warnings : none;
  BSON_APPEND_INT32(reply, "totalLinesWritten", static_cast<int32_t>(lines.size()));
  AppendStringArray(reply, "log", lines);
  return Status::OK();
}

}  // namespace docket::commands
