#include "engine/modify.h"

#include "engine/validation.h"
#include "docket/metrics.h"

#include "bson/validate.h"
#include "docket/deadline.h"

#include "engine/capped.h"
#include "engine/indexes.h"
#include "engine/oplog.h"
#include "bson/builder.h"
#include "bson/update_diff.h"
#include "engine/scan.h"

#include "engine/write_path.h"
#include "storage/keys.h"
#include "storage/record_value.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {
namespace {

using storage::FromRocks;

// Status returned by an attempt that must start over (the candidate changed
// between the scan and its lock, or a concurrent upsert inserted first).
// How often an upsert that hit DuplicateKey starts over (MongoDB 4.2+ retries
// such upserts as updates).
constexpr int kUpsertRetries = 3;

// An update's oplog `o`: {$v: 2, diff: <what changed>} (bson/update_diff.h).
Document UpdateEntryObject(const Document& before, const Document& after) {
  bson::Builder o;
  BSON_APPEND_INT32(o.get(), "$v", 2);
  bson::AppendDocument(o.get(), "diff", bson::ComputeUpdateDiff(before, after));
  return o.Finish();
}

Status StartOver() { return Status(ErrorCode::kWriteConflict, "candidate changed; retrying"); }

// Whether `record` matches; an error evaluating an $expr fails the write, as
// in MongoDB (Filter::Matches would count it as no match).
Result<bool> Matches(const query::Filter& filter, rocksdb::Slice record, size_t* position = nullptr) {
  const auto* data = reinterpret_cast<const uint8_t*>(record.data());
  if (position != nullptr) return filter.EvaluateAt(data, record.size(), position);
  return filter.Evaluate(data, record.size());
}

struct Candidate {
  std::string key;
  std::string value;
  bool locked = false;  // read with GetForUpdate: `value` is the locked version
};

// Finds the first matching record without locking it.
Status FindCandidate(EngineImpl* engine, WriteUnit& unit, const EntryGuard& guard, const ModifyRequest& request,
                     const ResolvedHint& hint, std::optional<Candidate>* out) {
  const query::Filter& filter = *request.filter;
  if (filter.id_equality() && (request.sort == nullptr || request.sort->empty()) && hint.index == nullptr) {
    bson_iter_t id;
    filter.id_equality()->Iterate(&id);
    bson_iter_next(&id);
    Candidate c{storage::RecordKey(guard.entry->id, id), {}, /*locked=*/true};
    bool found = false;
    // Point lookups lock straight away, so the caller need not re-read.
    DOCKET_RETURN_IF_ERROR(unit.QueueAndGetForUpdate(c.key, &c.value, &found));
    guard.entry->id_index_accesses.Record();
    NotePlan("IDHACK");
    CountKeysExamined(1);  // as MongoDB's IDHACK: one key, and the record when there is one
    if (found) CountDocsExamined(1);
    if (found) *out = std::move(c);
    return Status::OK();
  }
  PlanSummary plan;
  auto opened = OpenScan(engine, unit.owned() ? nullptr : unit.txn(), *guard.entry, *request.raw_filter,
                         request.raw_sort != nullptr ? *request.raw_sort : Document(), &plan, false, 0, false, hint,
                         request.collation);
  if (!opened.ok()) return opened.status();
  auto scan = std::move(opened).value();
  std::optional<query::SortSpec::SortValues> best_values;
  // A $near without a sort means the nearest match (its index plan reads in
  // cell order, not by distance).
  const bool nearest = filter.near_query() != nullptr && (request.sort == nullptr || request.sort->empty());
  std::optional<double> best_distance;
  bool first_is_best = !nearest && (request.sort == nullptr || request.sort->empty() || plan.provides_sort);
  for (; scan->Valid(); scan->Next()) {
    DOCKET_RETURN_IF_ERROR(CheckDeadline());
    rocksdb::Slice v = scan->value();
    auto matched = Matches(filter, v);
    if (!matched.ok()) return matched.status();
    if (!*matched) continue;
    if (nearest) {
      const std::optional<double> d = filter.NearDistance(std::string_view(v.data(), v.size()));
      if (d && (!best_distance || *d < *best_distance)) {
        best_distance = d;
        *out = Candidate{scan->key().ToString(), v.ToString()};
      }
      continue;
    }
    if (first_is_best) {
      *out = Candidate{scan->key().ToString(), v.ToString()};
      return Status::OK();
    }
    Document doc = Document::FromTrustedBytes(v.ToString());
    auto values = request.sort->Extract(doc);
    if (!best_values || request.sort->Compare(values, *best_values) < 0) {
      best_values = std::move(values);
      *out = Candidate{scan->key().ToString(), doc.bytes()};
    }
  }
  return scan->status();
}

// Applies the update (or delete) to one locked, matching record.
// `position` is where the filter matched inside an array (positional `$`).
// `sequence`: the record's sequence number (storage/record_value.h), which
// an update keeps and a delete removes the natural-order entry of.
Status ApplyToRecord(WriteUnit& unit, const storage::CollectionEntry& entry, const ModifyRequest& request,
                     const std::string& key, uint64_t sequence, const Document& current, size_t position,
                     ModifyOutcome* outcome) {
  outcome->matched += 1;
  outcome->before = current;
  if (request.update == nullptr) {
    outcome->modified += 1;
    return AllOrNothing(unit, [&]() -> Status {
      if (entry.capped) unit.NoteCappedChange(-static_cast<int64_t>(current.size()), -1);
      DOCKET_RETURN_IF_ERROR(FromRocks(unit.txn()->Delete(key), "deleting a record"));
      // Nobody else writes this entry: its record is locked.
      DOCKET_RETURN_IF_ERROR(unit.DeleteUnlocked(storage::NaturalKey(entry.id, sequence)));
      if (IsLogged(unit.engine(), entry)) unit.NoteChange(entry, 'd', IdDocument(current));
      return UpdateIndexEntries(unit, entry, &current, nullptr);
    });
  }
  bool changed = false;
  auto updated = request.update->Apply(current, /*is_insert=*/false, position, &changed);
  if (!updated.ok()) return updated.status();
  if (updated->size() > kMaxDocumentSize) {
    return Status(ErrorCode::kBSONObjectTooLargeAfterUpdate,
                  "Resulting document after update is larger than " + std::to_string(kMaxDocumentSize));
  }
  if (bson::NestingDepth(updated->data(), updated->size()) > bson::kMaxStorageDepth) {
    return Status(ErrorCode::kOverflow,
                  "Document exceeds maximum nesting depth of " + std::to_string(bson::kMaxStorageDepth));
  }
  outcome->after = *updated;
  if (!changed) return Status::OK();
  DOCKET_RETURN_IF_ERROR(CheckDocument(unit.engine(), entry, *updated, &current, unit.bypass_validation()));
  outcome->modified += 1;
  return AllOrNothing(unit, [&]() -> Status {
    if (entry.capped) unit.NoteCappedChange(static_cast<int64_t>(updated->size()) - static_cast<int64_t>(current.size()), 0);
    DOCKET_RETURN_IF_ERROR(
        FromRocks(unit.txn()->Put(key, storage::EncodeRecordValue(updated->bytes(), sequence)), "writing a record"));
    if (IsLogged(unit.engine(), entry)) {
      unit.NoteChange(entry, 'u', request.update->is_replacement() ? *updated : UpdateEntryObject(current, *updated),
                      IdDocument(current));
    }
    return UpdateIndexEntries(unit, entry, &current, &*updated);
  });
}

// `retries` counts the DuplicateKey retries of this upsert so far.
// `id_taken`: the filter's _id was found under its lock and did not match, so
// a DuplicateKey on it is the answer, not a race to retry.
Status Upsert(WriteUnit& unit, const EntryGuard& guard, const ModifyRequest& request, bool id_taken,
              ModifyOutcome* outcome, int* retries) {
  auto seed = update::SeedFromFilter(*request.raw_filter);
  if (!seed.ok()) return seed.status();
  bool changed = false;
  auto doc = request.update->Apply(*seed, /*is_insert=*/true, &changed);
  if (!doc.ok()) return doc.status();
  auto prepared = PrepareForInsert(*doc);
  if (!prepared.ok()) return prepared.status();
  Status s = InsertRecord(unit, *guard.entry, *prepared);
  if (s.code() == ErrorCode::kDuplicateKey && unit.owned() && !id_taken && ++*retries <= kUpsertRetries) {
    // Another writer inserted this _id (or unique key) since we looked:
    // retry, as an update if the filter now matches its document. A
    // duplicate that persists is a real constraint violation.
    return StartOver();
  }
  DOCKET_RETURN_IF_ERROR(s);
  outcome->after = *prepared;
  outcome->upserted_id = IdDocument(*prepared);
  return Status::OK();
}

}  // namespace

Result<ModifyOutcome> ModifyOne(EngineImpl* engine, EntryGuard& guard, const ModifyRequest& request,
                                const WriteOptions& options) {
  ModifyOutcome outcome;
  int upsert_retries = 0;
  ResolvedHint hint;
  if (guard.entry && request.hint != nullptr) {
    auto resolved = ResolveHint(*guard.entry, *request.hint, *request.raw_filter);
    if (!resolved.ok()) return resolved.status();
    hint = std::move(resolved).value();
  }
  Status s = RunWriteWithRetry(engine, options, [&](WriteUnit& unit) -> Status {
    outcome = ModifyOutcome();
    if (guard.entry) DOCKET_RETURN_IF_ERROR(unit.EnterCapped(*guard.entry));  // before any row lock
    bool id_taken = false;  // the filter's _id exists, locked, and does not match
    std::optional<Candidate> candidate;
    if (guard.entry) DOCKET_RETURN_IF_ERROR(FindCandidate(engine, unit, guard, request, hint, &candidate));
    if (candidate) {
      // Lock, re-read and re-check: the record may have changed since the scan.
      bool found = true;
      std::string locked = std::move(candidate->value);
      if (!candidate->locked) DOCKET_RETURN_IF_ERROR(unit.QueueAndGetForUpdate(candidate->key, &locked, &found));
      size_t position = bson::kNoPosition;
      bool matched = false;
      uint64_t sequence = 0;
      if (found) {
        sequence = SplitRecordValue(&locked);
        auto m = Matches(*request.filter, locked, &position);
        if (!m.ok()) return m.status();
        matched = *m;
      }
      if (!matched) {
        // A candidate read under its lock (an _id point lookup) is the latest
        // version: it does not match, and nothing else can. One found by the
        // unlocked scan matched there, so it changed since: start over, unless
        // in a user transaction, whose snapshot is the one the scan read.
        if (!candidate->locked && unit.owned()) return StartOver();
        id_taken = candidate->locked && found;
        candidate.reset();
      } else {
        return ApplyToRecord(unit, *guard.entry, request, candidate->key, sequence,
                             Document::FromTrustedBytes(std::move(locked)), position, &outcome);
      }
    }
    if (!request.upsert || request.update == nullptr) return Status::OK();
    if (!guard.entry) return Status(ErrorCode::kInternalError, "upsert without a collection");
    return Upsert(unit, guard, request, id_taken, &outcome, &upsert_retries);
  });
  if (!s.ok()) return s;
  return outcome;
}

Result<ModifyOutcome> ModifyMany(EngineImpl* engine, EntryGuard& guard, const ModifyRequest& request,
                                 const WriteOptions& parkable) {
  // Some documents may be written before one is found busy: a *Many write
  // waits (it cannot return and be run again from the start).
  WriteOptions options = parkable;
  options.may_park = false;
  ModifyOutcome total;
  if (guard.entry) {
    rocksdb::Transaction* user_txn = options.transaction ? options.transaction->impl()->txn : nullptr;
    if (user_txn != nullptr && guard.entry->capped) return CappedInTransaction(*guard.entry);
    // Lock, re-check and write one match found by the scan.
    auto modify_key = [&](const std::string& key) -> Status {
      ModifyOutcome one;
      Status s = RunWriteWithRetry(engine, options, [&](WriteUnit& unit) -> Status {
        one = ModifyOutcome();
        DOCKET_RETURN_IF_ERROR(unit.EnterCapped(*guard.entry));  // before any row lock
        bool found = false;
        std::string locked;
        DOCKET_RETURN_IF_ERROR(unit.QueueAndGetForUpdate(key, &locked, &found));
        size_t position = bson::kNoPosition;
        if (!found) return Status::OK();  // deleted since the scan
        const uint64_t sequence = SplitRecordValue(&locked);
        auto matched = Matches(*request.filter, locked, &position);
        if (!matched.ok()) return matched.status();
        if (!*matched) return Status::OK();  // changed by someone else since the scan: no longer ours
        return ApplyToRecord(unit, *guard.entry, request, key, sequence, Document::FromTrustedBytes(std::move(locked)),
                             position, &one);
      });
      total.matched += one.matched;
      total.modified += one.modified;
      return s;
    };
    ResolvedHint hint;
    if (request.hint != nullptr) {
      auto resolved = ResolveHint(*guard.entry, *request.hint, *request.raw_filter);
      if (!resolved.ok()) return resolved.status();
      hint = std::move(resolved).value();
    }
    auto opened = OpenScan(engine, user_txn, *guard.entry, *request.raw_filter, Document(), nullptr, false, 0, false, hint,
                           request.collation);
    if (!opened.ok()) return opened.status();
    auto scan = std::move(opened).value();
    if (user_txn == nullptr) {
      // The scan's iterator has its own snapshot and never sees the writes
      // below, so each match is written as it comes: memory stays bounded
      // however many documents match.
      for (; scan->Valid(); scan->Next()) {
        DOCKET_RETURN_IF_ERROR(CheckDeadline());
        auto matched = Matches(*request.filter, scan->value());
        if (!matched.ok()) return matched.status();
        if (*matched) DOCKET_RETURN_IF_ERROR(modify_key(scan->key().ToString()));
      }
      DOCKET_RETURN_IF_ERROR(scan->status());
    } else {
      // Inside a user transaction the scan reads through the transaction's
      // own write batch, which must not change under an open iterator: gather
      // the keys first (the transaction buffers every write in memory anyway).
      std::vector<std::string> keys;
      for (; scan->Valid(); scan->Next()) {
        DOCKET_RETURN_IF_ERROR(CheckDeadline());
        auto matched = Matches(*request.filter, scan->value());
        if (!matched.ok()) return matched.status();
        if (*matched) keys.push_back(scan->key().ToString());
      }
      DOCKET_RETURN_IF_ERROR(scan->status());
      for (const std::string& key : keys) DOCKET_RETURN_IF_ERROR(modify_key(key));
    }
  }
  if (total.matched == 0 && request.upsert && request.update != nullptr) {
    auto upserted = ModifyOne(engine, guard, request, options);
    if (!upserted.ok()) return upserted.status();
    total.matched += upserted->matched;
    total.modified += upserted->modified;
    total.upserted_id = upserted->upserted_id;
  }
  return total;
}

}  // namespace docket::engine
