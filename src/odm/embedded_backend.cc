// The ODM's backend on the embedded engine (docket:memory, docket:/path).
#include "odm/embedded_backend.h"

#include <exception>

namespace docket::odm {
namespace {

class EmbeddedSession : public Session {
 public:
  explicit EmbeddedSession(Transaction* txn) : txn(txn) {}
  Transaction* txn;
};

Transaction* TxnOf(Session* s) { return s != nullptr ? static_cast<EmbeddedSession*>(s)->txn : nullptr; }

template <class R>
R Take(Result<R> r) {
  ThrowIfError(r.status());
  return std::move(r).value();
}

class EngineCursor : public BackendCursor {
 public:
  explicit EngineCursor(docket::Cursor cursor) : cursor_(std::move(cursor)) {}
  std::optional<Document> Next() override {
    while (next_ >= batch_.size()) {
      if (cursor_.exhausted()) return std::nullopt;
      batch_ = Take(cursor_.NextBatch());
      next_ = 0;
    }
    return std::move(batch_[next_++]);
  }

 private:
  docket::Cursor cursor_;
  std::vector<Document> batch_;
  size_t next_ = 0;
};

}  // namespace

EmbeddedBackend::EmbeddedBackend(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}
EmbeddedBackend::~EmbeddedBackend() = default;

docket::Collection EmbeddedBackend::Of(const Namespace& ns) { return engine_->collection(ns.db, ns.collection); }

std::vector<std::optional<Status>> EmbeddedBackend::Insert(const Namespace& ns, const std::vector<Document>& docs,
                                                           bool ordered, const WriteConcernOptions& wc,
                                                           Session* session) {
  InsertManyOptions options;
  options.ordered = ordered;
  options.write.write_concern.journal = wc.journal;
  options.write.transaction = TxnOf(session);
  InsertManyResult result = Take(Of(ns).InsertMany(docs, options));
  std::vector<std::optional<Status>> out(docs.size());
  for (const WriteError& e : result.write_errors) {
    if (e.index < out.size()) out[e.index] = e.status;
  }
  return out;
}

std::unique_ptr<BackendCursor> EmbeddedBackend::Find(const Namespace& ns, const FindSpec& spec, Session* session) {
  docket::FindOptions options;
  options.projection = spec.projection;
  options.sort = spec.sort;
  options.skip = spec.skip;
  options.limit = spec.limit;
  if (spec.batch_size > 0) options.batch_size = spec.batch_size;
  options.collation = spec.collation;
  options.read.transaction = TxnOf(session);
  return std::make_unique<EngineCursor>(Take(Of(ns).Find(spec.filter, options)));
}

ModifyOutcome EmbeddedBackend::Modify(const Namespace& ns, const ModifySpec& spec, const WriteConcernOptions& wc,
                                      Session* session) {
  UpdateOptions options;
  options.upsert = spec.upsert;
  options.write.write_concern.journal = wc.journal;
  options.write.transaction = TxnOf(session);
  docket::Collection c = Of(ns);
  UpdateResult r = Take(spec.replacement ? c.ReplaceOne(spec.filter, spec.update, options)
                        : spec.many      ? c.UpdateMany(spec.filter, spec.update, options)
                                         : c.UpdateOne(spec.filter, spec.update, options));
  return ModifyOutcome{r.matched_count, r.modified_count, r.upserted_id};
}

int64_t EmbeddedBackend::Delete(const Namespace& ns, const Document& filter, bool many, const WriteConcernOptions& wc,
                                Session* session) {
  WriteOptions options;
  options.write_concern.journal = wc.journal;
  options.transaction = TxnOf(session);
  docket::Collection c = Of(ns);
  return Take(many ? c.DeleteMany(filter, options) : c.DeleteOne(filter, options)).deleted_count;
}

std::optional<Document> EmbeddedBackend::FindAndModify(const Namespace& ns, const FindAndModifySpec& spec,
                                                       const WriteConcernOptions& wc, Session* session) {
  FindAndModifyOptions options;
  options.sort = spec.sort;
  options.upsert = spec.upsert;
  options.return_document = spec.return_new ? ReturnDocument::kAfter : ReturnDocument::kBefore;
  options.write.write_concern.journal = wc.journal;
  options.write.transaction = TxnOf(session);
  const Document* update = spec.update ? &*spec.update : nullptr;
  return Take(Of(ns).FindAndModify(spec.filter, update, options)).value;
}

int64_t EmbeddedBackend::Count(const Namespace& ns, const Document& filter, Session* session) {
  CountOptions options;
  options.read.transaction = TxnOf(session);
  return Take(Of(ns).CountDocuments(filter, options));
}

Document EmbeddedBackend::Distinct(const Namespace& ns, const std::string& field, const Document& filter,
                                   Session* session) {
  ReadOptions options;
  options.transaction = TxnOf(session);
  return Take(Of(ns).Distinct(field, filter, options));
}

std::unique_ptr<BackendCursor> EmbeddedBackend::Aggregate(const Namespace& ns, const std::vector<Document>& pipeline,
                                                          Session* session) {
  AggregateOptions options;
  options.read.transaction = TxnOf(session);
  return std::make_unique<EngineCursor>(Take(Of(ns).Aggregate(pipeline, options)));
}

std::string EmbeddedBackend::CreateIndex(const Namespace& ns, const Document& spec) {
  return Take(Of(ns).CreateIndexes({spec})).names.front();
}

void EmbeddedBackend::DropCollection(const Namespace& ns) {
  Status s = engine_->DropCollection(ns.db, ns.collection);
  if (s.code() != ErrorCode::kNamespaceNotFound) ThrowIfError(s);
}

void EmbeddedBackend::DropDatabase(const std::string& db) { ThrowIfError(engine_->DropDatabase(db)); }

void EmbeddedBackend::WithTransaction(const std::function<void(Session&)>& body, const WriteConcernOptions& wc,
                                      int max_attempts) {
  // The body reports through exceptions; the engine's retry loop through
  // Status. A docket::Error becomes its Status (a WriteConflict is retried);
  // anything else is carried across and rethrown as it was.
  std::exception_ptr foreign;
  WriteConcern concern;
  concern.journal = wc.journal;
  Status s = engine_->WithTransaction(
      [&](Transaction& txn) -> Status {
        EmbeddedSession session(&txn);
        try {
          body(session);
        } catch (const Error& e) {
          return e.status();
        } catch (...) {
          foreign = std::current_exception();
          return Status(ErrorCode::kInternalError, "the transaction's body threw");
        }
        return Status::OK();
      },
      concern, max_attempts);
  if (foreign) std::rethrow_exception(foreign);
  ThrowIfError(s);
}

}  // namespace docket::odm
