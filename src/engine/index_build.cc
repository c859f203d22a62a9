#include "engine/index_build.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "bson/builder.h"
#include "docket/blocking.h"
#include "docket/deadline.h"
#include "docket/progress.h"
#include "engine/indexes.h"
#include "engine/write_path.h"
#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {
namespace {

using IndexPtr = std::shared_ptr<const index::Index>;

// Records per fill transaction: short enough that a writer waiting for one
// of their locks waits a moment, long enough to amortise the commit.
constexpr size_t kBatchRecords = 256;

Status Aborted(const storage::CollectionEntry& entry, const std::string& why) {
  return Status(ErrorCode::kIndexBuildAborted,
                "Index build aborted on " + entry.db + "." + entry.name + ": " + why);
}

constexpr const char* kLogContext = "IndexBuildsCoordinatorMongod-0";

// mongod's log events of an index build (its ids and attributes).
void LogBuild(EngineImpl* engine, int64_t id, const std::string& message, const bson::Builder& attrs) {
  engine->Log({'I', id == 51773 ? "-" : "INDEX", id, kLogContext, message, attrs.Finish().ToJson()});
}

std::string Namespace(const storage::CollectionEntry& entry) { return entry.db + "." + entry.name; }

// The compiled index `id` of `entry`, if it is still there. REQUIRES:
// lifecycle held.
IndexPtr FindCompiled(const storage::CollectionEntry& entry, uint64_t id) {
  for (const IndexPtr& index : IndexesOf(entry)) {
    if (index->id() == id) return index;
  }
  return nullptr;
}

// Writes the entries of the records `keys` for `index`, from their latest
// committed versions, each locked while it is read (see index_build.h).
Status FillBatch(WriteUnit& unit, const index::Index& index, const std::vector<std::string>& keys) {
  std::string value;
  std::vector<std::string> index_keys;
  for (const std::string& key : keys) {
    bool found = false;
    DOCKET_RETURN_IF_ERROR(unit.GetForUpdate(key, &value, &found));
    if (!found) continue;  // deleted since the scan passed it: its writer removed its entries
    SplitRecordValue(&value);
    const Document doc = Document::FromTrustedBytes(std::move(value));
    bool multikey = false;
    DOCKET_RETURN_IF_ERROR(index.KeysFor(doc, &index_keys, &multikey));
    if (multikey && !index.multikey()) {
      // Before the commit, as a writer does: a reader never plans on a
      // multikey index as if it were not.
      DOCKET_RETURN_IF_ERROR(storage::FromRocks(unit.txn()->Put(storage::MultikeyKey(index.id()), "1"),
                                                "writing an index flag"));
      index.MarkMultikey();
    }
    const std::string id_key = IdKey(doc);
    for (const std::string& k : index_keys) {
      DOCKET_RETURN_IF_ERROR(
          storage::FromRocks(unit.txn()->Put(IndexEntryKey(index, k, id_key), id_key), "building an index"));
    }
  }
  return Status::OK();
}

// Step 2 for one index. REQUIRES: entry.lifecycle held shared.
Status Fill(EngineImpl* engine, const storage::CollectionEntry& entry, const index::Index& index) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  {
    bson::Builder attrs;
    BSON_APPEND_UTF8(attrs.get(), "namespace", Namespace(entry).c_str());
    bson::AppendDocument(attrs.get(), "properties", index.spec());
    BSON_APPEND_UTF8(attrs.get(), "method", "Hybrid");
    LogBuild(engine, 20384, "Index build: starting", attrs);
  }
  int64_t total = 0;  // the records when the build starts, for the progress report
  {
    RecordScan counter(engine, nullptr, entry.id);
    for (; counter.Valid(); counter.Next()) {
      if (++total % 4096 == 0) DOCKET_RETURN_IF_ERROR(CheckDeadline());
    }
    DOCKET_RETURN_IF_ERROR(counter.status());
  }
  ReportProgress(0, total);
  int64_t done = 0;
  auto last_logged = started;
  std::vector<std::string> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    DOCKET_RETURN_IF_ERROR(CheckDeadline());
    Status s = RunWriteWithRetry(engine, WriteOptions(),
                                 [&](WriteUnit& unit) { return FillBatch(unit, index, batch); });
    done += static_cast<int64_t>(batch.size());
    batch.clear();
    ReportProgress(done, std::max(total, done));
    if (Clock::now() - last_logged >= std::chrono::seconds(3)) {  // as mongod's progress meter
      last_logged = Clock::now();
      bson::Builder attrs;
      BSON_APPEND_UTF8(attrs.get(), "name", "Index Build: scanning collection");
      BSON_APPEND_INT64(attrs.get(), "done", done);
      BSON_APPEND_INT64(attrs.get(), "total", std::max(total, done));
      BSON_APPEND_INT64(attrs.get(), "percent", total > 0 ? std::min<int64_t>(100, done * 100 / total) : 100);
      LogBuild(engine, 51773, "progress meter", attrs);
    }
    return s;
  };
  RecordScan scan(engine, nullptr, entry.id);
  for (; scan.Valid(); scan.Next()) {
    batch.push_back(scan.key().ToString());
    if (batch.size() >= kBatchRecords) DOCKET_RETURN_IF_ERROR(flush());
  }
  DOCKET_RETURN_IF_ERROR(scan.status());
  DOCKET_RETURN_IF_ERROR(flush());
  bson::Builder attrs;
  BSON_APPEND_UTF8(attrs.get(), "namespace", Namespace(entry).c_str());
  BSON_APPEND_UTF8(attrs.get(), "index", index.name().c_str());
  BSON_APPEND_INT64(attrs.get(), "totalRecords", done);
  BSON_APPEND_INT64(attrs.get(), "durationMillis",
                    std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
  LogBuild(engine, 20391, "Index build: collection scan done", attrs);
  return Status::OK();
}

// Step 3: marks the indexes ready, or removes them and their entries.
Status Finish(EngineImpl* engine, const storage::EntryPtr& entry, const std::vector<uint64_t>& ids, Status built) {
  std::unique_lock exclusive(entry->lifecycle);
  if (entry->retired) return built.ok() ? Aborted(*entry, "the collection was dropped") : built;
  auto ours = [&](const storage::StoredIndex& stored) {
    return std::find(ids.begin(), ids.end(), stored.id) != ids.end();
  };
  if (built.ok()) {
    for (storage::StoredIndex& stored : entry->indexes) {
      if (ours(stored)) stored.building = false;
    }
    built = engine->catalog->PersistEntry(*entry);
    if (built.ok()) {
      // Ready without a new index version: the set of indexes writers keep
      // is unchanged (transactions that wrote meanwhile still commit).
      for (uint64_t id : ids) {
        if (IndexPtr index = FindCompiled(*entry, id)) index->SetBuilding(false);
      }
      return Status::OK();
    }
    for (storage::StoredIndex& stored : entry->indexes) {
      if (ours(stored)) stored.building = true;
    }
  }
  std::vector<storage::StoredIndex> kept;
  for (const storage::StoredIndex& stored : entry->indexes) {
    if (!ours(stored)) kept.push_back(stored);
  }
  entry->indexes = std::move(kept);
  Status removed = engine->catalog->PersistEntry(*entry);
  if (removed.ok()) removed = CompileIndexes(engine, entry.get());
  if (removed.ok()) {
    for (uint64_t id : ids) {
      Status s = engine->store->DeleteRange(storage::IndexPrefix(id), storage::IndexRangeEnd(id));
      if (!s.ok() && removed.ok()) removed = s;
    }
  }
  (void)removed;  // the build's own error is the one to report; an index left building is rebuilt at the next open
  return built;
}

}  // namespace

Status BuildRegisteredIndexes(EngineImpl* engine, const storage::EntryPtr& entry, const std::vector<uint64_t>& ids) {
  Status built;
  {
    std::shared_lock shared(entry->lifecycle);
    if (entry->retired) built = Aborted(*entry, "the collection was dropped");
    for (uint64_t id : ids) {
      if (!built.ok()) break;
      const IndexPtr index = FindCompiled(*entry, id);
      built = index ? Fill(engine, *entry, *index) : Aborted(*entry, "the index was dropped");
    }
  }
  Status finished = Finish(engine, entry, ids, built);
  bson::Builder attrs;
  BSON_APPEND_UTF8(attrs.get(), "namespace", Namespace(*entry).c_str());
  if (finished.ok()) {
    BSON_APPEND_INT64(attrs.get(), "numIndexesBuilt", static_cast<int64_t>(ids.size()));
    LogBuild(engine, 20663, "Index build: completed successfully", attrs);
  } else {
    BSON_APPEND_UTF8(attrs.get(), "error", finished.ToString().c_str());
    LogBuild(engine, 20649, "Index build: failed", attrs);
  }
  {
    std::lock_guard lock(engine->index_builds_mutex);
    ++engine->index_builds_finished;
  }
  engine->index_builds_done.notify_all();
  return finished;
}

Status WaitForIndexBuilds(EngineImpl* engine) {
  DOCKET_RETURN_IF_ERROR(CheckDeadline());
  BlockingRegion blocking;
  std::unique_lock lock(engine->index_builds_mutex);
  const uint64_t seen = engine->index_builds_finished;
  engine->index_builds_done.wait_for(lock, std::chrono::milliseconds(100),
                                     [&] { return engine->index_builds_finished != seen; });
  return CheckDeadline();
}

}  // namespace docket::engine
