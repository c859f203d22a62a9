#include "tools/docket/transfer/connection.h"

#include <algorithm>
#include <mutex>

namespace docket::transfer {
namespace {

struct CollectionDeleter {
  void operator()(mongoc_collection_t* c) const { mongoc_collection_destroy(c); }
};
struct CursorDeleter {
  void operator()(mongoc_cursor_t* c) const { mongoc_cursor_destroy(c); }
};
struct DatabaseDeleter {
  void operator()(mongoc_database_t* d) const { mongoc_database_destroy(d); }
};
struct BulkDeleter {
  void operator()(mongoc_bulk_operation_t* b) const { mongoc_bulk_operation_destroy(b); }
};
using CollectionPtr = std::unique_ptr<mongoc_collection_t, CollectionDeleter>;
using CursorPtr = std::unique_ptr<mongoc_cursor_t, CursorDeleter>;

std::vector<BsonPtr> Drain(mongoc_cursor_t* cursor, const std::string& what) {
  std::vector<BsonPtr> out;
  const bson_t* doc = nullptr;
  while (mongoc_cursor_next(cursor, &doc)) out.push_back(CopyBson(doc));
  bson_error_t error;
  if (mongoc_cursor_error(cursor, &error)) throw TransferError(what + ": " + DescribeError(error));
  return out;
}

}  // namespace

std::string DescribeError(const bson_error_t& error) {
  std::string out = error.message;
  if (error.domain == MONGOC_ERROR_SERVER || error.domain == MONGOC_ERROR_WRITE_CONCERN)
    out += " (code " + std::to_string(error.code) + ")";
  return out;
}

std::string ConnectionFlags::Uri() const {
  if (!uri.empty()) {
    if (!host.empty() || port != 0) throw TransferError("--uri cannot be combined with --host or --port");
    return uri;
  }
  std::string where = host.empty() ? "127.0.0.1" : host;
  if (port != 0) {
    if (where.find(':') != std::string::npos) throw TransferError("--port given twice: in --host and in --port");
    where += ":" + std::to_string(port);
  }
  return "mongodb://" + where + "/";
}

Connection::Connection(const std::string& uri) {
  static std::once_flag init;
  std::call_once(init, [] { mongoc_init(); });
  bson_error_t error;
  uri_ = mongoc_uri_new_with_error(uri.c_str(), &error);
  if (uri_ == nullptr) throw TransferError("bad --uri: " + std::string(error.message));
  client_ = mongoc_client_new_from_uri_with_error(uri_, &error);
  if (client_ == nullptr) {
    mongoc_uri_destroy(uri_);
    throw TransferError("cannot connect to " + uri + ": " + error.message);
  }
  mongoc_client_set_error_api(client_, MONGOC_ERROR_API_VERSION_2);
  mongoc_client_set_appname(client_, "docket-tools");
  // Fail now, with a clear message, if nothing answers at the address.
  BsonPtr ping = NewBson();
  BSON_APPEND_INT32(ping.get(), "ping", 1);
  bson_t reply;
  if (!mongoc_client_command_simple(client_, "admin", ping.get(), nullptr, &reply, &error)) {
    bson_destroy(&reply);
    mongoc_client_destroy(client_);
    mongoc_uri_destroy(uri_);
    throw TransferError("cannot connect to " + uri + ": " + DescribeError(error));
  }
  bson_destroy(&reply);
}

Connection::~Connection() {
  mongoc_client_destroy(client_);
  mongoc_uri_destroy(uri_);
}

BsonPtr Connection::RunCommand(const std::string& db, const bson_t* command) {
  bson_error_t error;
  bson_t raw;
  const bool ok = mongoc_client_command_simple(client_, db.c_str(), command, nullptr, &raw, &error);
  // bson_copy: a heap bson_t of its own (bson_copy_to into bson_new's would
  // mark it static and leak the struct).
  BsonPtr reply(bson_copy(&raw));
  bson_destroy(&raw);
  if (!ok) {
    bson_iter_t it;
    std::string name = bson_iter_init(&it, command) && bson_iter_next(&it) ? bson_iter_key(&it) : "command";
    throw TransferError(name + " on " + db + " failed: " + DescribeError(error));
  }
  return reply;
}

std::string Connection::ServerVersion() {
  BsonPtr command = NewBson();
  BSON_APPEND_INT32(command.get(), "buildInfo", 1);
  return StringField(RunCommand("admin", command.get()).get(), "version", "unknown");
}

std::vector<std::string> Connection::DatabaseNames() {
  bson_error_t error;
  char** names = mongoc_client_get_database_names_with_opts(client_, nullptr, &error);
  if (names == nullptr) throw TransferError("listDatabases failed: " + DescribeError(error));
  std::vector<std::string> out;
  for (char** name = names; *name != nullptr; ++name) out.emplace_back(*name);
  bson_strfreev(names);
  return out;
}

std::vector<BsonPtr> Connection::Collections(const std::string& db) {
  std::unique_ptr<mongoc_database_t, DatabaseDeleter> database(mongoc_client_get_database(client_, db.c_str()));
  CursorPtr cursor(mongoc_database_find_collections_with_opts(database.get(), nullptr));
  std::vector<BsonPtr> out = Drain(cursor.get(), "listCollections on " + db);
  std::sort(out.begin(), out.end(), [](const BsonPtr& a, const BsonPtr& b) {
    return StringField(a.get(), "name") < StringField(b.get(), "name");
  });
  return out;
}

std::vector<BsonPtr> Connection::Indexes(const std::string& db, const std::string& collection) {
  CollectionPtr coll(mongoc_client_get_collection(client_, db.c_str(), collection.c_str()));
  CursorPtr cursor(mongoc_collection_find_indexes_with_opts(coll.get(), nullptr));
  return Drain(cursor.get(), "listIndexes on " + db + "." + collection);
}

void Connection::Find(const std::string& db, const std::string& collection, const bson_t* filter,
                      const bson_t* options, const std::function<void(const bson_t*)>& each) {
  CollectionPtr coll(mongoc_client_get_collection(client_, db.c_str(), collection.c_str()));
  BsonPtr empty = NewBson();
  CursorPtr cursor(mongoc_collection_find_with_opts(coll.get(), filter != nullptr ? filter : empty.get(), options,
                                                     nullptr));
  const bson_t* doc = nullptr;
  while (mongoc_cursor_next(cursor.get(), &doc)) each(doc);
  bson_error_t error;
  if (mongoc_cursor_error(cursor.get(), &error))
    throw TransferError("reading " + db + "." + collection + ": " + DescribeError(error));
}

int64_t Connection::EstimatedCount(const std::string& db, const std::string& collection) {
  CollectionPtr coll(mongoc_client_get_collection(client_, db.c_str(), collection.c_str()));
  bson_error_t error;
  const int64_t n = mongoc_collection_estimated_document_count(coll.get(), nullptr, nullptr, nullptr, &error);
  if (n < 0) throw TransferError("counting " + db + "." + collection + ": " + DescribeError(error));
  return n;
}

int64_t Connection::CountMatching(const std::string& db, const std::string& collection, const bson_t* filter) {
  CollectionPtr coll(mongoc_client_get_collection(client_, db.c_str(), collection.c_str()));
  bson_error_t error;
  const int64_t n = mongoc_collection_count_documents(coll.get(), filter, nullptr, nullptr, nullptr, &error);
  if (n < 0) throw TransferError("counting " + db + "." + collection + ": " + DescribeError(error));
  return n;
}

Connection::BatchResult Connection::InsertBatch(const std::string& db, const std::string& collection,
                                                const std::vector<BsonPtr>& docs, bool ordered,
                                                bool bypass_validation) {
  BatchResult result;
  if (docs.empty()) return result;
  CollectionPtr coll(mongoc_client_get_collection(client_, db.c_str(), collection.c_str()));
  BsonPtr options = NewBson();
  BSON_APPEND_BOOL(options.get(), "ordered", ordered);
  std::unique_ptr<mongoc_bulk_operation_t, BulkDeleter> bulk(
      mongoc_collection_create_bulk_operation_with_opts(coll.get(), options.get()));
  if (bypass_validation) mongoc_bulk_operation_set_bypass_document_validation(bulk.get(), true);
  bson_error_t error;
  for (const BsonPtr& doc : docs) {
    if (!mongoc_bulk_operation_insert_with_opts(bulk.get(), doc.get(), nullptr, &error))
      throw TransferError("inserting into " + db + "." + collection + ": " + DescribeError(error));
  }
  bson_t reply;
  const uint32_t ok = mongoc_bulk_operation_execute(bulk.get(), &reply, &error);
  bson_iter_t it;
  if (bson_iter_init_find(&it, &reply, "nInserted")) result.inserted = bson_iter_as_int64(&it);
  bson_iter_t errors, each;
  if (bson_iter_init_find(&errors, &reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&errors) &&
      bson_iter_recurse(&errors, &each)) {
    while (bson_iter_next(&each)) {
      bson_iter_t field;
      if (BSON_ITER_HOLDS_DOCUMENT(&each) && bson_iter_recurse(&each, &field) && bson_iter_find(&field, "errmsg"))
        result.errors.emplace_back(bson_iter_utf8(&field, nullptr));
      else
        result.errors.emplace_back("a document was refused");
    }
  }
  bson_destroy(&reply);
  if (ok == 0 && result.errors.empty())
    throw TransferError("inserting into " + db + "." + collection + ": " + DescribeError(error));
  return result;
}

}  // namespace docket::transfer
