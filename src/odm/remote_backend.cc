// The ODM's backend on any MongoDB deployment (docket serve, a standalone
// mongod, a replica set, a sharded cluster) through libmongoc's thread-safe
// client pool. Read and write concern, retryable writes and the deployment's
// topology come from the URI, as libmongoc reads them.
#include "odm/remote_backend.h"
#include "bson/append_element.h"

#include <mongoc/mongoc.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

namespace docket::odm {
namespace {

// MongoDB's codes pass through; the driver's own errors get the closest.
Status FromMongoc(const bson_error_t& error, const char* what) {
  ErrorCode code = ErrorCode::kInternalError;
  if (error.domain == MONGOC_ERROR_SERVER || error.domain == MONGOC_ERROR_WRITE_CONCERN) {
    code = static_cast<ErrorCode>(error.code);
  } else if (error.domain == MONGOC_ERROR_SERVER_SELECTION || error.domain == MONGOC_ERROR_STREAM) {
    code = static_cast<ErrorCode>(6);  // HostUnreachable
  } else if (error.domain == MONGOC_ERROR_COMMAND || error.domain == MONGOC_ERROR_BSON) {
    code = ErrorCode::kBadValue;
  }
  return Status(code, std::string(what) + ": " + error.message);
}

[[noreturn]] void Throw(const bson_error_t& error, const char* what) { throw Error(FromMongoc(error, what)); }

// A bson_t over a Document's bytes (no copy). The Document must outlive it.
struct View {
  explicit View(const Document& d) { bson_init_static(&b, d.data(), d.size()); }
  const bson_t* get() const { return &b; }
  bson_t b;
};

Document Copy(const bson_t* b) {
  return Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(bson_get_data(b)), b->len));
}

// A bson_t that destroys itself.
struct Owned {
  Owned() { bson_init(&b); }
  ~Owned() { bson_destroy(&b); }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  bson_t* get() { return &b; }
  bson_t b;
};

int64_t Int64Field(const bson_t* doc, const char* key) {
  bson_iter_t it;
  return bson_iter_init_find(&it, doc, key) ? bson_iter_as_int64(&it) : 0;
}

}  // namespace

// A transaction: a client taken from the pool for the transaction's length,
// and its session. Operations in it use that client.
class RemoteSession : public Session {
 public:
  RemoteSession(mongoc_client_pool_t* pool, mongoc_client_t* client, mongoc_client_session_t* session)
      : pool_(pool), client_(client), session_(session) {}
  ~RemoteSession() override {
    mongoc_client_session_destroy(session_);
    mongoc_client_pool_push(pool_, client_);
  }
  mongoc_client_t* client() const { return client_; }
  mongoc_client_session_t* session() const { return session_; }

 private:
  mongoc_client_pool_t* pool_;
  mongoc_client_t* client_;
  mongoc_client_session_t* session_;
};

// A client for one operation: the session's, or one popped from the pool.
class RemoteBackend::Lease {
 public:
  Lease(RemoteBackend* backend, Session* session) : backend_(backend) {
    if (session != nullptr) {
      session_ = static_cast<RemoteSession*>(session);
      client_ = session_->client();
    } else {
      client_ = mongoc_client_pool_pop(backend_->pool_);
    }
  }
  ~Lease() {
    if (collection_ != nullptr) mongoc_collection_destroy(collection_);
    if (session_ == nullptr && client_ != nullptr) mongoc_client_pool_push(backend_->pool_, client_);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  mongoc_client_t* client() const { return client_; }
  mongoc_collection_t* collection(const Namespace& ns) {
    if (collection_ == nullptr) collection_ = mongoc_client_get_collection(client_, ns.db.c_str(), ns.collection.c_str());
    return collection_;
  }
  // Command options: the session (when in one) and the write concern
  // (outside a transaction, which has its own).
  void AppendOptions(bson_t* opts, const WriteConcernOptions* wc) {
    bson_error_t error;
    if (session_ != nullptr) {
      if (!mongoc_client_session_append(session_->session(), opts, &error)) Throw(error, "joining the transaction");
      return;
    }
    if (wc != nullptr && wc->journal) {
      bson_t concern;
      BSON_APPEND_DOCUMENT_BEGIN(opts, "writeConcern", &concern);
      BSON_APPEND_INT32(&concern, "w", 1);
      BSON_APPEND_BOOL(&concern, "j", true);
      bson_append_document_end(opts, &concern);
    }
  }
  // Gives the client to a cursor that outlives this lease.
  mongoc_client_t* Release() {
    mongoc_client_t* c = session_ == nullptr ? client_ : nullptr;
    client_ = session_ == nullptr ? nullptr : client_;
    return c;
  }

 private:
  RemoteBackend* backend_;
  RemoteSession* session_ = nullptr;
  mongoc_client_t* client_ = nullptr;
  mongoc_collection_t* collection_ = nullptr;
};

namespace {

// A server cursor; keeps its client out of the pool until it is done.
class RemoteCursor : public BackendCursor {
 public:
  RemoteCursor(mongoc_client_pool_t* pool, mongoc_client_t* owned_client, mongoc_collection_t* collection,
               mongoc_cursor_t* cursor)
      : pool_(pool), client_(owned_client), collection_(collection), cursor_(cursor) {}
  ~RemoteCursor() override {
    mongoc_cursor_destroy(cursor_);
    mongoc_collection_destroy(collection_);
    if (client_ != nullptr) mongoc_client_pool_push(pool_, client_);
  }
  std::optional<Document> Next() override {
    const bson_t* doc = nullptr;
    if (mongoc_cursor_next(cursor_, &doc)) return Copy(doc);
    bson_error_t error;
    if (mongoc_cursor_error(cursor_, &error)) Throw(error, "reading a cursor");
    return std::nullopt;
  }

 private:
  mongoc_client_pool_t* pool_;
  mongoc_client_t* client_;  // null when the client belongs to a session
  mongoc_collection_t* collection_;
  mongoc_cursor_t* cursor_;
};

}  // namespace

RemoteBackend::RemoteBackend(const std::string& uri) {
  static std::once_flag init;
  std::call_once(init, [] { mongoc_init(); });
  bson_error_t error;
  uri_ = mongoc_uri_new_with_error(uri.c_str(), &error);
  if (uri_ == nullptr) throw Error(Status(ErrorCode::kBadValue, std::string("bad MongoDB URI: ") + error.message));
  pool_ = mongoc_client_pool_new(uri_);
  mongoc_client_pool_set_error_api(pool_, MONGOC_ERROR_API_VERSION_2);
  mongoc_client_pool_set_appname(pool_, "docket-odm");
}

RemoteBackend::~RemoteBackend() {
  mongoc_client_pool_destroy(pool_);
  mongoc_uri_destroy(uri_);
}

std::vector<std::optional<Status>> RemoteBackend::Insert(const Namespace& ns, const std::vector<Document>& docs,
                                                         bool ordered, const WriteConcernOptions& wc,
                                                         Session* session) {
  std::vector<std::optional<Status>> out(docs.size());
  if (docs.empty()) return out;
  Lease lease(this, session);
  std::vector<View> views;
  views.reserve(docs.size());
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // bson_t's alignment attribute; pointers are fine
  std::vector<const bson_t*> pointers;
#pragma GCC diagnostic pop
  for (const Document& d : docs) {
    views.emplace_back(d);
    pointers.push_back(views.back().get());
  }
  Owned opts, reply;
  BSON_APPEND_BOOL(opts.get(), "ordered", ordered);
  lease.AppendOptions(opts.get(), &wc);
  bson_error_t error;
  if (mongoc_collection_insert_many(lease.collection(ns), pointers.data(), pointers.size(), opts.get(), reply.get(),
                                    &error)) {
    return out;
  }
  bson_iter_t it, entry;
  if (!bson_iter_init_find(&it, reply.get(), "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it)) Throw(error, "inserting");
  bson_iter_recurse(&it, &entry);
  while (bson_iter_next(&entry)) {
    bson_t e;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_document(&entry, &len, &data);
    bson_init_static(&e, data, len);
    bson_iter_t field;
    int64_t index = Int64Field(&e, "index");
    std::string message = bson_iter_init_find(&field, &e, "errmsg") ? bson_iter_utf8(&field, nullptr) : "write error";
    if (index >= 0 && static_cast<size_t>(index) < out.size()) {
      out[index] = Status(static_cast<ErrorCode>(Int64Field(&e, "code")), message);
    }
  }
  return out;
}

std::unique_ptr<BackendCursor> RemoteBackend::Find(const Namespace& ns, const FindSpec& spec, Session* session) {
  Lease lease(this, session);
  Owned opts;
  if (!spec.projection.empty()) BSON_APPEND_DOCUMENT(opts.get(), "projection", View(spec.projection).get());
  if (!spec.sort.empty()) BSON_APPEND_DOCUMENT(opts.get(), "sort", View(spec.sort).get());
  if (spec.skip > 0) BSON_APPEND_INT64(opts.get(), "skip", spec.skip);
  if (spec.limit > 0) BSON_APPEND_INT64(opts.get(), "limit", spec.limit);
  if (spec.batch_size > 0) BSON_APPEND_INT32(opts.get(), "batchSize", spec.batch_size);
  if (!spec.collation.empty()) BSON_APPEND_DOCUMENT(opts.get(), "collation", View(spec.collation).get());
  lease.AppendOptions(opts.get(), nullptr);
  mongoc_collection_t* collection = mongoc_client_get_collection(lease.client(), ns.db.c_str(), ns.collection.c_str());
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(collection, View(spec.filter).get(), opts.get(), nullptr);
  return std::make_unique<RemoteCursor>(pool_, lease.Release(), collection, cursor);
}

ModifyOutcome RemoteBackend::Modify(const Namespace& ns, const ModifySpec& spec, const WriteConcernOptions& wc,
                                    Session* session) {
  Lease lease(this, session);
  Owned opts, reply;
  if (spec.upsert) BSON_APPEND_BOOL(opts.get(), "upsert", true);
  lease.AppendOptions(opts.get(), &wc);
  bson_error_t error;
  mongoc_collection_t* c = lease.collection(ns);
  View filter(spec.filter), update(spec.update);
  bool ok = spec.replacement ? mongoc_collection_replace_one(c, filter.get(), update.get(), opts.get(), reply.get(), &error)
            : spec.many      ? mongoc_collection_update_many(c, filter.get(), update.get(), opts.get(), reply.get(), &error)
                             : mongoc_collection_update_one(c, filter.get(), update.get(), opts.get(), reply.get(), &error);
  if (!ok) Throw(error, "updating");
  ModifyOutcome out{Int64Field(reply.get(), "matchedCount"), Int64Field(reply.get(), "modifiedCount"), std::nullopt};
  bson_iter_t id;
  if (bson_iter_init_find(&id, reply.get(), "upsertedId")) {
    Owned holder;
    docket::bson::AppendElement(holder.get(), "_id", 3, &id);
    out.upserted_id = Copy(holder.get());
  }
  return out;
}

int64_t RemoteBackend::Delete(const Namespace& ns, const Document& filter, bool many, const WriteConcernOptions& wc,
                              Session* session) {
  Lease lease(this, session);
  Owned opts, reply;
  lease.AppendOptions(opts.get(), &wc);
  bson_error_t error;
  View f(filter);
  bool ok = many ? mongoc_collection_delete_many(lease.collection(ns), f.get(), opts.get(), reply.get(), &error)
                 : mongoc_collection_delete_one(lease.collection(ns), f.get(), opts.get(), reply.get(), &error);
  if (!ok) Throw(error, "deleting");
  return Int64Field(reply.get(), "deletedCount");
}

std::optional<Document> RemoteBackend::FindAndModify(const Namespace& ns, const FindAndModifySpec& spec,
                                                     const WriteConcernOptions& wc, Session* session) {
  Lease lease(this, session);
  mongoc_find_and_modify_opts_t* opts = mongoc_find_and_modify_opts_new();
  int flags = MONGOC_FIND_AND_MODIFY_NONE;
  if (!spec.update) flags |= MONGOC_FIND_AND_MODIFY_REMOVE;
  if (spec.upsert) flags |= MONGOC_FIND_AND_MODIFY_UPSERT;
  if (spec.return_new) flags |= MONGOC_FIND_AND_MODIFY_RETURN_NEW;
  mongoc_find_and_modify_opts_set_flags(opts, static_cast<mongoc_find_and_modify_flags_t>(flags));
  if (!spec.sort.empty()) mongoc_find_and_modify_opts_set_sort(opts, View(spec.sort).get());
  if (spec.update) mongoc_find_and_modify_opts_set_update(opts, View(*spec.update).get());
  Owned extra, reply;
  lease.AppendOptions(extra.get(), &wc);
  mongoc_find_and_modify_opts_append(opts, extra.get());
  bson_error_t error;
  bool ok = mongoc_collection_find_and_modify_with_opts(lease.collection(ns), View(spec.filter).get(), opts,
                                                         reply.get(), &error);
  mongoc_find_and_modify_opts_destroy(opts);
  if (!ok) Throw(error, "findAndModify");
  bson_iter_t value;
  if (!bson_iter_init_find(&value, reply.get(), "value") || !BSON_ITER_HOLDS_DOCUMENT(&value)) return std::nullopt;
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_document(&value, &len, &data);
  return Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len));
}

int64_t RemoteBackend::Count(const Namespace& ns, const Document& filter, Session* session) {
  Lease lease(this, session);
  Owned opts, reply;
  lease.AppendOptions(opts.get(), nullptr);
  bson_error_t error;
  int64_t n = mongoc_collection_count_documents(lease.collection(ns), View(filter).get(), opts.get(), nullptr,
                                                 reply.get(), &error);
  if (n < 0) Throw(error, "counting");
  return n;
}

Document RemoteBackend::Distinct(const Namespace& ns, const std::string& field, const Document& filter,
                                 Session* session) {
  Lease lease(this, session);
  Owned command, opts, reply;
  BSON_APPEND_UTF8(command.get(), "distinct", ns.collection.c_str());
  BSON_APPEND_UTF8(command.get(), "key", field.c_str());
  BSON_APPEND_DOCUMENT(command.get(), "query", View(filter).get());
  lease.AppendOptions(opts.get(), nullptr);
  bson_error_t error;
  if (!mongoc_collection_read_command_with_opts(lease.collection(ns), command.get(), nullptr, opts.get(), reply.get(),
                                                &error)) {
    Throw(error, "distinct");
  }
  Owned out;
  bson_iter_t values;
  if (bson_iter_init_find(&values, reply.get(), "values")) docket::bson::AppendElement(out.get(), "values", 6, &values);
  return Copy(out.get());
}

std::unique_ptr<BackendCursor> RemoteBackend::Aggregate(const Namespace& ns, const std::vector<Document>& pipeline,
                                                        Session* session) {
  Lease lease(this, session);
  Owned stages, opts;
  {
    bson_t list;
    BSON_APPEND_ARRAY_BEGIN(stages.get(), "pipeline", &list);
    char key[16];
    for (size_t i = 0; i < pipeline.size(); ++i) {
      const char* k = nullptr;
      bson_uint32_to_string(static_cast<uint32_t>(i), &k, key, sizeof(key));
      BSON_APPEND_DOCUMENT(&list, k, View(pipeline[i]).get());
    }
    bson_append_array_end(stages.get(), &list);
  }
  lease.AppendOptions(opts.get(), nullptr);
  mongoc_collection_t* collection = mongoc_client_get_collection(lease.client(), ns.db.c_str(), ns.collection.c_str());
  mongoc_cursor_t* cursor = mongoc_collection_aggregate(collection, MONGOC_QUERY_NONE, stages.get(), opts.get(), nullptr);
  return std::make_unique<RemoteCursor>(pool_, lease.Release(), collection, cursor);
}

std::string RemoteBackend::CreateIndex(const Namespace& ns, const Document& spec) {
  // The reply does not name the index: give it MongoDB's default name here.
  bson_iter_t it;
  std::string name;
  if (spec.Find("name", &it) && BSON_ITER_HOLDS_UTF8(&it)) {
    name = bson_iter_utf8(&it, nullptr);
  } else if (spec.Find("key", &it) && BSON_ITER_HOLDS_DOCUMENT(&it)) {
    bson_iter_t key;
    bson_iter_recurse(&it, &key);
    while (bson_iter_next(&key)) {
      if (!name.empty()) name += "_";
      name += bson_iter_key(&key);
      name += "_";
      name += BSON_ITER_HOLDS_UTF8(&key) ? std::string(bson_iter_utf8(&key, nullptr))
                                         : std::to_string(bson_iter_as_int64(&key));
    }
  }
  Owned command, index, opts, reply;
  BSON_APPEND_UTF8(command.get(), "createIndexes", ns.collection.c_str());
  {
    bson_t list, entry;
    BSON_APPEND_ARRAY_BEGIN(command.get(), "indexes", &list);
    BSON_APPEND_DOCUMENT_BEGIN(&list, "0", &entry);
    spec.Iterate(&it);
    while (bson_iter_next(&it)) {
      if (std::string_view(bson_iter_key(&it)) != "name") docket::bson::AppendElement(&entry, bson_iter_key(&it), -1, &it);
    }
    BSON_APPEND_UTF8(&entry, "name", name.c_str());
    bson_append_document_end(&list, &entry);
    bson_append_array_end(command.get(), &list);
  }
  Lease lease(this, nullptr);
  bson_error_t error;
  if (!mongoc_collection_write_command_with_opts(lease.collection(ns), command.get(), opts.get(), reply.get(), &error)) {
    Throw(error, "createIndexes");
  }
  return name;
}

void RemoteBackend::DropCollection(const Namespace& ns) {
  Lease lease(this, nullptr);
  bson_error_t error;
  if (!mongoc_collection_drop_with_opts(lease.collection(ns), nullptr, &error) &&
      !(error.domain == MONGOC_ERROR_SERVER && error.code == 26)) {
    Throw(error, "dropping a collection");
  }
}

void RemoteBackend::DropDatabase(const std::string& db) {
  Lease lease(this, nullptr);
  mongoc_database_t* database = mongoc_client_get_database(lease.client(), db.c_str());
  bson_error_t error;
  bool ok = mongoc_database_drop_with_opts(database, nullptr, &error);
  mongoc_database_destroy(database);
  if (!ok) Throw(error, "dropping a database");
}

bool RemoteBackend::SupportsTransactions() {
  Lease lease(this, nullptr);
  bson_error_t error;
  mongoc_server_description_t* server = mongoc_client_select_server(lease.client(), true, nullptr, &error);
  if (server == nullptr) Throw(error, "selecting a server");
  std::string_view type = mongoc_server_description_type(server);
  mongoc_server_description_destroy(server);
  return type == "RSPrimary" || type == "Mongos";
}

void RemoteBackend::WithTransaction(const std::function<void(Session&)>& body, const WriteConcernOptions& wc,
                                    int max_attempts) {
  if (!SupportsTransactions()) {
    throw Error(Status(ErrorCode::kIllegalOperation,
                       "transactions need a replica set or a sharded cluster; this deployment is a standalone server"));
  }
  std::mt19937 jitter(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    // After a conflict, wait a random while that grows with the attempts, so
    // that transactions contending for one document stop colliding in step.
    if (attempt > 1) {
      const int cap_micros = std::min(100000, 250 << std::min(attempt, 9));
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, cap_micros)(jitter)));
    }
    mongoc_client_t* client = mongoc_client_pool_pop(pool_);
    bson_error_t error;
    mongoc_client_session_t* raw = mongoc_client_start_session(client, nullptr, &error);
    if (raw == nullptr) {
      mongoc_client_pool_push(pool_, client);
      Throw(error, "starting a session");
    }
    RemoteSession session(pool_, client, raw);
    mongoc_transaction_opt_t* txn_opts = mongoc_transaction_opts_new();
    if (wc.journal) {
      mongoc_write_concern_t* concern = mongoc_write_concern_new();
      mongoc_write_concern_set_journal(concern, true);
      mongoc_transaction_opts_set_write_concern(txn_opts, concern);
      mongoc_write_concern_destroy(concern);
    }
    bool started = mongoc_client_session_start_transaction(raw, txn_opts, &error);
    mongoc_transaction_opts_destroy(txn_opts);
    if (!started) Throw(error, "starting a transaction");
    bool transient = false;
    try {
      body(session);
    } catch (const Error& e) {
      bson_error_t ignored;
      mongoc_client_session_abort_transaction(raw, &ignored);
      transient = e.code() == ErrorCode::kWriteConflict || e.code() == ErrorCode::kNoSuchTransaction;
      if (!transient || attempt >= max_attempts) throw;
      continue;
    } catch (...) {
      bson_error_t ignored;
      mongoc_client_session_abort_transaction(raw, &ignored);
      throw;
    }
    // Commit; an unknown outcome is retried (commit is idempotent), a
    // transient failure runs the whole body again.
    while (true) {
      Owned reply;
      if (mongoc_client_session_commit_transaction(raw, reply.get(), &error)) return;
      if (mongoc_error_has_label(reply.get(), "UnknownTransactionCommitResult") && attempt < max_attempts) {
        ++attempt;
        continue;
      }
      transient = mongoc_error_has_label(reply.get(), "TransientTransactionError");
      break;
    }
    if (!transient || attempt >= max_attempts) Throw(error, "committing a transaction");
  }
}

}  // namespace docket::odm
