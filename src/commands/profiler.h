// The database profiler and the slow-operation log, as mongod 6.0's:
//
//   * `profile` sets a database's level (0 off, 1 slow operations, 2 all)
//     and filter, and the server's slowms and sampleRate (which mongod also
//     keeps server-wide); it answers with the previous settings ({was,
//     slowms, sampleRate[, filter]}); `profile: -1` only reads them.
//   * After each command on a database whose level is 1 or 2, an entry goes
//     into <db>.system.profile, a capped collection of 1 MiB created on the
//     first entry when missing (as mongod; a user may create it larger
//     first): op, ns, command, keysExamined, docsExamined (measured by the
//     engine's scans, docket/metrics.h), nreturned, nMatched, nModified,
//     ninserted, ndeleted, cursorid, numYield, responseLength, protocol,
//     millis, ts, client, appName, allUsers, user, and ok/errCode/errName/
//     errMsg for a failure. Level 1 takes the operations that took at least
//     slowms (sampled at sampleRate), or, with a filter, those the filter
//     matches (the filter is a query on the entry).
//   * Whatever the level, an operation that took slowms or more is logged
//     ("Slow query", id 51803), as mongod.
//
// An update or delete command gives one entry per statement, as mongod's
// (op "update" / "remove", command: the statement, its own figures and
// millis); level 1's slowms and the filter apply to each.
//
// Differences: operations on system.profile itself are not profiled; locks
// are not reported.
//
// Thread-safe: settings under mutex_; entries are written through the
// engine like any insert.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "docket/document.h"
#include "docket/engine.h"
#include "docket/metrics.h"
#include "query/filter.h"

namespace docket::commands {

struct CommandContext;
struct CommandRequest;

// One statement of an update or delete command, as the profiler records it
// (mongod writes a system.profile entry per statement, not per command).
struct ProfiledStatement {
  Document statement;        // {q, u, multi, upsert, ...} or {q, limit, ...}
  OperationMetrics metrics;  // its own engine work (the command's metrics hold it too)
  int64_t micros = 0;
  int64_t matched = 0;
  int64_t modified = 0;
  int64_t deleted = 0;
  bool upserted = false;
  Status status;
};


class Profiler {
 public:
  // The `profile` command. Errors: BadValue for a level outside -1..2 or a
  // sampleRate outside [0, 1], TypeMismatch for fields of the wrong type,
  // the filter's errors.
  Status Configure(const std::string& db, const Document& command, bson_t* reply);

  // A database's level and filter when an operation starts: what decides
  // whether it is profiled (as mongod, so the `profile` command that turns
  // profiling on is not in it, and the one that turns it off is).
  struct AtStart {
    int level = 0;
    std::shared_ptr<const query::Filter> filter;
  };
  AtStart Begin(const std::string& db) const;

  // After command `name` of `request` ran for `micros` microseconds, reading
  // what `metrics` counted, and answered `reply`.
  // `statements`: an update's or delete's statements (empty otherwise, or
  // when the database was not profiled).
  void Record(CommandContext& context, const CommandRequest& request, const std::string& name, const Document& reply,
              int64_t micros, const OperationMetrics& metrics, const AtStart& settings,
              const std::vector<ProfiledStatement>& statements);

  static constexpr int64_t kProfileCollectionBytes = 1 << 20;  // mongod's default system.profile

 private:
  struct DatabaseSettings {
    int level = 0;
    Document filter;  // as given; empty: none
    std::shared_ptr<const query::Filter> compiled;
  };

  // Read by every command without the mutex (the profiler's cost at level
  // 0 is two atomic loads and a clock reading); written under it.
  std::atomic<int64_t> slow_ms_{100};
  std::atomic<int> databases_profiled_{0};  // how many databases have a level above 0
  mutable std::mutex mutex_;
  double sample_rate_ = 1.0;                        // GUARDED_BY(mutex_)
  std::map<std::string, DatabaseSettings> per_db_;  // GUARDED_BY(mutex_)
};

}  // namespace docket::commands
