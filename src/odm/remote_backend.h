// The ODM's Backend on a MongoDB server through libmongoc. Internal to src/odm.
#pragma once

#include <string>

#include "docket/odm/backend.h"

struct _mongoc_client_pool_t;
struct _mongoc_uri_t;

namespace docket::odm {

// Thread-safe: each operation takes a client from libmongoc's pool (a
// transaction keeps one for its length).
class RemoteBackend : public Backend {
 public:
  explicit RemoteBackend(const std::string& uri);
  ~RemoteBackend() override;
  RemoteBackend(const RemoteBackend&) = delete;
  RemoteBackend& operator=(const RemoteBackend&) = delete;

  std::vector<std::optional<Status>> Insert(const Namespace& ns, const std::vector<Document>& docs, bool ordered,
                                            const WriteConcernOptions& wc, Session* session) override;
  std::unique_ptr<BackendCursor> Find(const Namespace& ns, const FindSpec& spec, Session* session) override;
  ModifyOutcome Modify(const Namespace& ns, const ModifySpec& spec, const WriteConcernOptions& wc,
                       Session* session) override;
  int64_t Delete(const Namespace& ns, const Document& filter, bool many, const WriteConcernOptions& wc,
                 Session* session) override;
  std::optional<Document> FindAndModify(const Namespace& ns, const FindAndModifySpec& spec,
                                        const WriteConcernOptions& wc, Session* session) override;
  int64_t Count(const Namespace& ns, const Document& filter, Session* session) override;
  Document Distinct(const Namespace& ns, const std::string& field, const Document& filter, Session* session) override;
  std::unique_ptr<BackendCursor> Aggregate(const Namespace& ns, const std::vector<Document>& pipeline,
                                           Session* session) override;
  std::string CreateIndex(const Namespace& ns, const Document& spec) override;
  void DropCollection(const Namespace& ns) override;
  void DropDatabase(const std::string& db) override;
  void WithTransaction(const std::function<void(Session&)>& body, const WriteConcernOptions& wc,
                       int max_attempts) override;
  bool SupportsTransactions() override;

 private:
  class Lease;
  _mongoc_client_pool_t* pool_ = nullptr;
  _mongoc_uri_t* uri_ = nullptr;
};

}  // namespace docket::odm
