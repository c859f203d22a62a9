// The one interface under the ODM: documents in, documents out. Two
// implementations: the embedded engine (docket:memory, docket:/path) and a
// MongoDB server through libmongoc (mongodb://..., docket serve included).
// No ODM code knows which one it runs on.
//
// Every method throws docket::Error (a MongoDB error code) on failure and is
// safe to call from any number of threads at once; a Session is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "docket/document.h"
#include "docket/odm/types.h"

namespace docket::odm {

struct Namespace {
  std::string db;
  std::string collection;
};

// A transaction in progress on a backend (an engine Transaction, or a
// libmongoc session in a transaction). Operations given one run in it.
class Session {
 public:
  virtual ~Session() = default;
};

struct WriteConcernOptions {
  bool journal = false;  // j: true
};

struct FindSpec {
  Document filter;
  Document projection;
  Document sort;
  int64_t skip = 0;
  int64_t limit = 0;  // 0: none
  int32_t batch_size = 0;  // 0: the backend's default
  Document collation;      // {}: the collection's default
};

struct ModifySpec {
  Document filter;
  Document update;          // operators or a replacement
  bool upsert = false;
  bool many = false;
  bool replacement = false;
};

struct ModifyOutcome {
  int64_t matched = 0;
  int64_t modified = 0;
  std::optional<Document> upserted_id;  // {_id: value}
};

struct FindAndModifySpec {
  Document filter;
  Document sort;
  std::optional<Document> update;  // none: remove
  bool upsert = false;
  bool return_new = false;
};

class BackendCursor {
 public:
  virtual ~BackendCursor() = default;
  // The next document, or nullopt at the end.
  virtual std::optional<Document> Next() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // For each document, nullopt or the error that refused it (DuplicateKey...).
  // `ordered` stops at the first error.
  virtual std::vector<std::optional<Status>> Insert(const Namespace& ns, const std::vector<Document>& docs,
                                                    bool ordered, const WriteConcernOptions& wc, Session* session) = 0;
  virtual std::unique_ptr<BackendCursor> Find(const Namespace& ns, const FindSpec& spec, Session* session) = 0;
  virtual ModifyOutcome Modify(const Namespace& ns, const ModifySpec& spec, const WriteConcernOptions& wc,
                               Session* session) = 0;
  virtual int64_t Delete(const Namespace& ns, const Document& filter, bool many, const WriteConcernOptions& wc,
                         Session* session) = 0;
  virtual std::optional<Document> FindAndModify(const Namespace& ns, const FindAndModifySpec& spec,
                                                const WriteConcernOptions& wc, Session* session) = 0;
  virtual int64_t Count(const Namespace& ns, const Document& filter, Session* session) = 0;
  // Distinct values as {values: [...]}.
  virtual Document Distinct(const Namespace& ns, const std::string& field, const Document& filter,
                            Session* session) = 0;
  virtual std::unique_ptr<BackendCursor> Aggregate(const Namespace& ns, const std::vector<Document>& pipeline,
                                                   Session* session) = 0;
  // A createIndexes spec ({key, name, unique, ...}); returns the name.
  virtual std::string CreateIndex(const Namespace& ns, const Document& spec) = 0;
  virtual void DropCollection(const Namespace& ns) = 0;
  virtual void DropDatabase(const std::string& db) = 0;

  // Runs `body` in a transaction and commits; on a transient conflict
  // (WriteConflict, or a driver's TransientTransactionError) starts over, up
  // to `max_attempts` times. An error thrown by the body aborts and is
  // rethrown. Errors: IllegalOperation (20) where the server has no
  // transactions (a standalone MongoDB).
  virtual void WithTransaction(const std::function<void(Session&)>& body, const WriteConcernOptions& wc,
                               int max_attempts) = 0;
  // Whether transactions are available (the embedded engine, or a replica
  // set / sharded cluster).
  virtual bool SupportsTransactions() = 0;
};

// docket:memory, docket:/path/to/dir, or mongodb://... (a libmongoc client
// pool). Errors: BadValue for an unknown scheme; the backend's own errors.
std::shared_ptr<Backend> OpenBackend(const std::string& uri);

}  // namespace docket::odm
