#include "docket/engine.h"

#include <filesystem>
#include <algorithm>
#include <chrono>
#include <shared_mutex>

#include "bson/builder.h"
#include "engine/capped.h"
#include "engine/engine_impl.h"
#include "engine/oplog.h"
#include "engine/indexes.h"
#include "engine/namespace.h"
#include "engine/validation.h"
#include "engine/views.h"
#include "engine/spill.h"
#include "storage/keys.h"

namespace docket {

Engine::Engine(std::unique_ptr<EngineImpl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() {
  if (impl_) impl_->StopTtlMonitor();  // before anything it uses goes away
}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  auto impl = std::make_unique<EngineImpl>();
  impl->in_memory = options.in_memory;
  impl->write_wait_seconds = std::max(1, options.write_wait_seconds);
  impl->no_table_scan = options.no_table_scan;
  if (!options.in_memory) impl->path = options.path;
  impl->query_memory_limit_bytes = options.query_memory_limit_bytes;
  auto store = storage::Store::Open(options.path, options.in_memory, options.cache_size_bytes,
                                    options.row_cache_bytes);
  if (!store.ok()) return store.status();
  impl->store = std::move(store).value();
  impl->read_views = std::make_unique<engine::ReadViewPool>(impl->store->db());
  DOCKET_RETURN_IF_ERROR(engine::DeleteAllSpills(impl.get()));  // a crash's leftovers
  auto catalog = storage::Catalog::Load(impl->store.get(), !options.in_memory);
  if (!catalog.ok()) return catalog.status();
  impl->catalog = std::move(catalog).value();
  for (const storage::EntryPtr& entry : impl->catalog->List("")) {
    DOCKET_RETURN_IF_ERROR(engine::FinishInterruptedBuilds(impl.get(), entry.get()));  // not shared with anyone yet
    DOCKET_RETURN_IF_ERROR(engine::CompileIndexes(impl.get(), entry.get()));
    DOCKET_RETURN_IF_ERROR(engine::CompileValidation(entry.get()));
  }
  std::unique_ptr<Engine> engine(new Engine(std::move(impl)));
  engine->impl_->owner = engine.get();
  if (options.oplog_size_bytes > 0) {
    DOCKET_RETURN_IF_ERROR(engine::OpenOplog(engine.get(), engine->impl_.get(), options.oplog_size_bytes));
  }
  {
    EngineImpl* state = engine->impl_.get();
    state->ttl_enabled = options.ttl_monitor_seconds > 0;
    if (options.ttl_monitor_seconds > 0) state->ttl_interval = std::chrono::seconds(options.ttl_monitor_seconds);
    Engine* self = engine.get();
    state->ttl_thread = std::thread([state, self] {
      std::unique_lock lock(state->ttl_mutex);
      while (!state->ttl_stop) {
        const uint64_t version = state->ttl_settings_version;
        auto changed = [state, version] { return state->ttl_stop || state->ttl_settings_version != version; };
        if (!state->ttl_enabled) {
          state->ttl_wake.wait(lock, changed);
          continue;
        }
        if (state->ttl_wake.wait_for(lock, state->ttl_interval, changed)) continue;
        lock.unlock();
        (void)self->DeleteExpired();  // a failed pass is retried at the next interval
        lock.lock();
      }
    });
  }
  return engine;
}

void Engine::SetNoTableScan(bool on) { impl_->no_table_scan = on; }
bool Engine::no_table_scan() const { return impl_->no_table_scan; }
ClusterClock& Engine::cluster_clock() { return impl_->clock; }

Status Engine::RecordCollectionModified(std::string_view db, std::string_view name, const Document& command) {
  const storage::EntryPtr entry = impl_->catalog->Find(db, name);
  return engine::LogCommand(impl_.get(), db, entry && !entry->view ? entry->uuid : "", command);
}
bool Engine::has_oplog() const { return impl_->oplog != nullptr; }

void Engine::SetTtlMonitorEnabled(bool on) {
  {
    std::lock_guard lock(impl_->ttl_mutex);
    impl_->ttl_enabled = on;
    ++impl_->ttl_settings_version;
  }
  impl_->ttl_wake.notify_all();
}

bool Engine::ttl_monitor_enabled() const {
  std::lock_guard lock(impl_->ttl_mutex);
  return impl_->ttl_enabled;
}

Status Engine::SetTtlMonitorInterval(int seconds) {
  if (seconds < 1) {
    return Status(ErrorCode::kBadValue, "the TTL monitor's interval must be at least 1 second, not " + std::to_string(seconds));
  }
  {
    std::lock_guard lock(impl_->ttl_mutex);
    impl_->ttl_interval = std::chrono::seconds(seconds);
    ++impl_->ttl_settings_version;
  }
  impl_->ttl_wake.notify_all();
  return Status::OK();
}

int Engine::ttl_monitor_interval() const {
  std::lock_guard lock(impl_->ttl_mutex);
  return static_cast<int>(impl_->ttl_interval.count());
}

Status Engine::SetWriteWaitSeconds(int seconds) {
  if (seconds < 1) return Status(ErrorCode::kBadValue, "the write wait must be at least 1 second");
  impl_->write_wait_seconds = seconds;
  return Status::OK();
}

Collection Engine::collection(std::string_view db, std::string_view name) {
  return Collection(impl_.get(), std::string(db), std::string(name));
}

Status Engine::CreateCollection(std::string_view db, std::string_view name, Transaction* txn) {
  return CreateCollection(db, name, CollectionOptions(), txn);
}

Status Engine::CreateCollection(std::string_view db, std::string_view name, const CollectionOptions& options,
                                Transaction* txn) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, name));
  if (options.view_on) {
    DOCKET_RETURN_IF_ERROR(engine::CreateView(impl_.get(), db, name, options, txn));
    return txn != nullptr ? Status::OK() : engine::LogCommand(impl_.get(), db, "", engine::CreateCommand(name, options));
  }
  if (!options.pipeline.empty()) {
    return Status(ErrorCode::kInvalidOptions, "'pipeline' requires 'viewOn' to also be specified");
  }
  auto capped = engine::CappedLimitsFor(options);
  if (!capped.ok()) return capped.status();
  std::optional<storage::ValidationRules> validation;
  if (!options.validator.empty() || options.validation_level != "strict" || options.validation_action != "error") {
    auto rules = engine::CheckValidationRules(db, name, options.validator, options.validation_level,
                                              options.validation_action);
    if (!rules.ok()) return rules.status();
    validation = std::move(rules).value();
  }
  if (*capped && txn != nullptr) {
    return Status(ErrorCode::kOperationNotSupportedInTransaction,
                  "Cannot create a capped collection in a multi-document transaction.");
  }
  text::CollatorPtr collation;
  if (!options.collation.empty()) {
    auto made = text::Collator::Make(options.collation);
    if (!made.ok()) return made.status();
    collation = std::move(made).value();
  }
  if (collation != nullptr && txn != nullptr) {
    return Status(ErrorCode::kOperationNotSupportedInTransaction,
                  "Cannot create a collection with a default collation in a multi-document transaction on Docket.");
  }
  if (txn == nullptr) {
    auto prepare = [&collation](storage::CollectionEntry* entry) {
      entry->collation = collation;  // before the validator, which compares by it
      return engine::CompileValidation(entry);
    };
    DOCKET_RETURN_IF_ERROR(impl_->catalog->Create(db, name, *capped, std::nullopt, std::move(validation), prepare));
    const storage::EntryPtr created = impl_->catalog->Find(db, name);
    return engine::LogCommand(impl_.get(), db, created ? created->uuid : "", engine::CreateCommand(name, options));
  }
  if (validation) {
    return Status(ErrorCode::kOperationNotSupportedInTransaction,
                  "Cannot create a collection with a validator in a multi-document transaction.");
  }
  if (!txn->active()) return Status(ErrorCode::kNoSuchTransaction, "transaction is not active");
  TransactionImpl* t = txn->impl();
  storage::EntryPtr created;
  DOCKET_RETURN_IF_ERROR(impl_->catalog->CreatePending(db, name, t->txn, t, &created));
  t->created.push_back(std::move(created));
  return Status::OK();
}

namespace {

// Deletes a retired collection's data: its index entries, natural-order
// entries and records. REQUIRES: the entry is retired (nothing writes into
// its ranges any more).
Status DeleteCollectionData(EngineImpl* impl, const storage::CollectionEntry& entry) {
  DOCKET_RETURN_IF_ERROR(engine::DeleteIndexData(impl, entry));
  DOCKET_RETURN_IF_ERROR(impl->store->DeleteRange(storage::NaturalPrefix(entry.id), storage::NaturalRangeEnd(entry.id)));
  return impl->store->DeleteRange(storage::RecordPrefix(entry.id), storage::RecordRangeEnd(entry.id));
}

}  // namespace

Status Engine::DropCollection(std::string_view db, std::string_view name, int* indexes_was) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, name));
  if (impl_->oplog != nullptr && db == engine::kOplogDatabase && name == engine::kOplogCollection) {
    return Status(ErrorCode::kIllegalOperation, "can't drop live oplog while replicating");
  }
  auto dropped = impl_->catalog->Drop(db, name);
  if (!dropped.ok()) return dropped.status();
  // Retired: no one changes its indexes any more.
  if (indexes_was != nullptr) *indexes_was = (*dropped)->view ? -1 : static_cast<int>((*dropped)->indexes.size()) + 1;
  // The id is retired: nothing can write into its range any more.
  DOCKET_RETURN_IF_ERROR(DeleteCollectionData(impl_.get(), **dropped));
  bson::Builder drop;
  bson_append_utf8(drop.get(), "drop", 4, name.data(), static_cast<int>(name.size()));
  return engine::LogCommand(impl_.get(), db, (*dropped)->view ? "" : (*dropped)->uuid, drop.Finish());
}

Status Engine::DropDatabase(std::string_view db) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateDatabaseName(db));
  bool dropped_any = false;
  for (const storage::EntryPtr& entry : impl_->catalog->List(db)) {
    Status s = DropCollection(db, entry->name);
    if (!s.ok() && s.code() != ErrorCode::kNamespaceNotFound) return s;
    dropped_any = dropped_any || s.ok();
  }
  if (!dropped_any) return Status::OK();  // as mongod: no entry for a database that did not exist
  bson::Builder command;
  BSON_APPEND_INT32(command.get(), "dropDatabase", 1);
  return engine::LogCommand(impl_.get(), db, "", command.Finish());
}

Status Engine::RenameCollection(std::string_view from_db, std::string_view from_name, std::string_view to_db,
                                std::string_view to_name, bool drop_target) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(from_db, from_name));
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(to_db, to_name));
  if (from_db == to_db && from_name == to_name) {
    return Status(ErrorCode::kIllegalOperation, "Can't rename a collection to itself");
  }
  if (engine::IsView(impl_.get(), from_db, from_name)) {
    return Status(ErrorCode::kCommandNotSupportedOnView,
                  "cannot rename view: " + std::string(from_db) + "." + std::string(from_name));
  }
  if (engine::IsView(impl_.get(), to_db, to_name)) {
    return Status(ErrorCode::kNamespaceExists,
                  "a view already exists with that name: " + std::string(to_db) + "." + std::string(to_name));
  }
  auto target = impl_->catalog->Rename(from_db, from_name, to_db, to_name, drop_target);
  if (!target.ok()) return target.status();
  if (*target) DOCKET_RETURN_IF_ERROR(DeleteCollectionData(impl_.get(), **target));
  const storage::EntryPtr moved = impl_->catalog->Find(to_db, to_name);
  bson::Builder command;
  const std::string from = std::string(from_db) + "." + std::string(from_name);
  const std::string to = std::string(to_db) + "." + std::string(to_name);
  BSON_APPEND_UTF8(command.get(), "renameCollection", from.c_str());
  BSON_APPEND_UTF8(command.get(), "to", to.c_str());
  BSON_APPEND_BOOL(command.get(), "stayTemp", false);
  if (*target) {
    BSON_APPEND_BINARY(command.get(), "dropTarget", BSON_SUBTYPE_UUID,
                       reinterpret_cast<const uint8_t*>((*target)->uuid.data()), 16);
  } else {
    BSON_APPEND_BOOL(command.get(), "dropTarget", false);
  }
  return engine::LogCommand(impl_.get(), from_db, moved ? moved->uuid : "", command.Finish());
}

Status Engine::Flush() { return impl_->store->Flush(); }

Status Engine::Checkpoint(const std::string& dir) {
  std::error_code error;
  if (std::filesystem::exists(dir, error)) {
    return Status(ErrorCode::kBadValue, "backup directory " + dir + " already exists: name a new one");
  }
  return impl_->store->Checkpoint(dir);
}

Status Engine::Compact() {
  impl_->read_views->Clear();  // idle views would keep the old files alive
  return impl_->store->Compact();
}

Result<int64_t> Engine::CompactCollection(std::string_view db, std::string_view name) {
  std::vector<std::pair<std::string, std::string>> ranges;
  {
    // The key ranges are read under the lifecycle lock; the compaction runs
    // without it (a drop meanwhile leaves ranges that compact to nothing).
    auto guard = engine::ResolveForRead(impl_.get(), std::string(db), std::string(name), nullptr, engine::Views::kAllow);
    if (!guard.ok()) return guard.status();
    if (!guard->entry) {
      return Status(ErrorCode::kNamespaceNotFound, "collection does not exist: " + std::string(db) + "." + std::string(name));
    }
    if (guard->entry->view) return Status(ErrorCode::kCommandNotSupportedOnView, "can't compact a view");
    const uint64_t id = guard->entry->id;
    ranges.emplace_back(storage::RecordPrefix(id), storage::RecordRangeEnd(id));
    ranges.emplace_back(storage::NaturalPrefix(id), storage::NaturalRangeEnd(id));
    for (const auto& index : engine::IndexesOf(*guard->entry)) {
      ranges.emplace_back(storage::IndexPrefix(index->id()), storage::IndexRangeEnd(index->id()));
    }
  }
  impl_->read_views->Clear();  // idle views would keep the old files alive
  return impl_->store->CompactRanges(ranges);
}

Engine::CacheUsage Engine::cache_usage() const {
  const rocksdb::Cache& blocks = impl_->store->block_cache();
  const storage::PointCache* rows = impl_->store->point_cache();
  return CacheUsage{blocks.GetUsage(), blocks.GetCapacity(), rows ? rows->usage() : 0, rows ? rows->capacity() : 0};
}

Result<int64_t> Engine::DeleteExpired() {
  struct Expiring {
    std::string db, name, field;
    int64_t seconds;
  };
  std::vector<Expiring> work;
  for (const storage::EntryPtr& entry : impl_->catalog->List("")) {
    std::shared_lock lock(entry->lifecycle);
    if (entry->retired) continue;
    for (const auto& index : engine::IndexesOf(*entry)) {
      if (index->expire_after_seconds() && !index->building()) {
        work.push_back({entry->db, entry->name, index->fields().front().dotted, *index->expire_after_seconds()});
      }
    }
  }
  int64_t deleted = 0;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  for (const Expiring& w : work) {
    bson::Builder filter, condition;
    BSON_APPEND_DATE_TIME(condition.get(), "$lt", now_ms - w.seconds * 1000);
    bson::AppendDocument(filter.get(), w.field.c_str(), condition.Finish());
    auto result = collection(w.db, w.name).DeleteMany(filter.Finish());
    if (!result.ok()) {
      if (result.status().code() == ErrorCode::kNamespaceNotFound) continue;  // dropped meanwhile
      return result.status();
    }
    deleted += result->deleted_count;
  }
  return deleted;
}

std::vector<std::string> Engine::ListDatabases() { return impl_->catalog->ListDatabases(); }

const std::string& Engine::path() const { return impl_->path; }

std::vector<CollectionInfo> Engine::ListCollections(std::string_view db) {
  std::vector<CollectionInfo> out;
  if (db.empty()) return out;
  for (const storage::EntryPtr& entry : impl_->catalog->List(db)) {
    CollectionInfo info{entry->db, entry->name};
    if (!entry->view) info.uuid = entry->uuid;
    std::lock_guard lock(entry->options_mutex);  // not lifecycle: an index build holds that for long
    if (entry->capped) {
      info.capped = true;
      info.capped_size = entry->capped->size;
      info.capped_max = entry->capped->max;
    }
    if (entry->collation) info.collation = entry->collation->spec();
    if (entry->validation) {
      info.validated = true;
      info.validator = entry->validation->validator;
      info.validation_level = entry->validation->level;
      info.validation_action = entry->validation->action;
    }
    if (entry->view) {
      info.view = true;
      info.view_on = entry->view->view_on;
      info.collation = entry->view->collation;
      info.pipeline = entry->view->pipeline;
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace docket
