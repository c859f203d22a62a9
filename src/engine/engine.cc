#include "docket/engine.h"

#include "engine/engine_impl.h"
#include "engine/indexes.h"
#include "engine/namespace.h"
#include "storage/keys.h"

namespace docket {

Engine::Engine(std::unique_ptr<EngineImpl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  auto impl = std::make_unique<EngineImpl>();
  impl->in_memory = options.in_memory;
  auto store = storage::Store::Open(options.path, options.in_memory);
  if (!store.ok()) return store.status();
  impl->store = std::move(store).value();
  auto catalog = storage::Catalog::Load(impl->store.get(), !options.in_memory);
  if (!catalog.ok()) return catalog.status();
  impl->catalog = std::move(catalog).value();
  for (const storage::EntryPtr& entry : impl->catalog->List("")) {
    DOCKET_RETURN_IF_ERROR(engine::CompileIndexes(impl.get(), entry.get()));  // not shared with anyone yet
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Collection Engine::collection(std::string_view db, std::string_view name) {
  return Collection(impl_.get(), std::string(db), std::string(name));
}

Status Engine::CreateCollection(std::string_view db, std::string_view name) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, name));
  return impl_->catalog->Create(db, name);
}

Status Engine::DropCollection(std::string_view db, std::string_view name) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, name));
  auto dropped = impl_->catalog->Drop(db, name);
  if (!dropped.ok()) return dropped.status();
  // The id is retired: nothing can write into its range any more.
  DOCKET_RETURN_IF_ERROR(engine::DeleteIndexData(impl_.get(), **dropped));
  return impl_->store->DeleteRange(storage::RecordPrefix((*dropped)->id), storage::RecordRangeEnd((*dropped)->id));
}

Status Engine::DropDatabase(std::string_view db) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateDatabaseName(db));
  for (const storage::EntryPtr& entry : impl_->catalog->List(db)) {
    Status s = DropCollection(db, entry->name);
    if (!s.ok() && s.code() != ErrorCode::kNamespaceNotFound) return s;
  }
  return Status::OK();
}

Status Engine::RenameCollection(std::string_view from_db, std::string_view from_name, std::string_view to_db,
                                std::string_view to_name, bool drop_target) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(from_db, from_name));
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(to_db, to_name));
  if (from_db == to_db && from_name == to_name) {
    return Status(ErrorCode::kIllegalOperation, "Can't rename a collection to itself");
  }
  auto target = impl_->catalog->Rename(from_db, from_name, to_db, to_name, drop_target);
  if (!target.ok()) return target.status();
  if (*target) {
    DOCKET_RETURN_IF_ERROR(engine::DeleteIndexData(impl_.get(), **target));
    return impl_->store->DeleteRange(storage::RecordPrefix((*target)->id), storage::RecordRangeEnd((*target)->id));
  }
  return Status::OK();
}

Status Engine::Flush() { return impl_->store->Flush(); }

std::vector<std::string> Engine::ListDatabases() { return impl_->catalog->ListDatabases(); }

std::vector<CollectionInfo> Engine::ListCollections(std::string_view db) {
  std::vector<CollectionInfo> out;
  if (db.empty()) return out;
  for (const storage::EntryPtr& entry : impl_->catalog->List(db)) out.push_back({entry->db, entry->name});
  return out;
}

}  // namespace docket
