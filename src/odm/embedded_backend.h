// The ODM's Backend on the embedded engine. Internal to src/odm.
#pragma once

#include <memory>

#include "docket/engine.h"
#include "docket/odm/backend.h"

namespace docket::odm {

// Thread-safe: the engine is.
class EmbeddedBackend : public Backend {
 public:
  explicit EmbeddedBackend(std::unique_ptr<Engine> engine);
  ~EmbeddedBackend() override;

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
  bool SupportsTransactions() override { return true; }

  Engine& engine() { return *engine_; }

 private:
  docket::Collection Of(const Namespace& ns);
  std::unique_ptr<Engine> engine_;
};

}  // namespace docket::odm
