// What serverStatus reports of the work done since the server started, as
// mongod counts it (the sections mongostat, mongotop-style tools and
// monitoring read): opcounters, opLatencies, metrics.commands,
// metrics.document, metrics.queryExecutor, network.
//
// Counting rules, mongod's: opcounters.insert counts documents inserted,
// update and delete count statements, query counts find commands, getmore
// getMore commands, command every other command (and count, distinct,
// aggregate, findAndModify). opLatencies sums microseconds by class: reads
// (find, getMore, count, distinct, aggregate), writes (insert, update,
// delete, findAndModify), commands (the rest). Thread-safe: atomics, and a
// mutex for the per-command map.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <bson/bson.h>

#include "docket/document.h"
#include "docket/metrics.h"

namespace docket::commands {

class ServerMetrics {
 public:
  // After command `name` answered `reply` in `micros`; `statements`: the
  // number of an update's or delete's statements (in its body or a
  // document sequence).
  // `ns`: "db.collection" the command worked on, "" for none.
  void CountCommand(const std::string& name, const std::string& ns, int64_t statements, const Document& reply,
                    int64_t micros, const OperationMetrics& examined);

  // A namespace's use since the server started: microseconds and
  // operations by class ($collStats' latencyStats) and by kind (`top`).
  struct Usage {
    int64_t micros = 0, count = 0;
    void Add(int64_t m) {
      micros += m;
      count += 1;
    }
  };
  struct NamespaceLatency {
    int64_t reads_micros = 0, reads_ops = 0, writes_micros = 0, writes_ops = 0, commands_micros = 0, commands_ops = 0;
    // top's: total, readLock (reads), writeLock (writes), and by kind.
    Usage total, queries, getmore, insert, update, remove, commands;
  };
  NamespaceLatency LatencyOf(const std::string& ns) const;
  // $collStats' latencyStats of `ns`: {reads, writes, commands, transactions}
  // each {latency, ops}, appended to `out` under `key`.
  void AppendLatencyStats(const std::string& ns, const char* key, bson_t* out) const;
  // `top`'s {totals: {note, <ns>: {...}}} body, appended to `reply`.
  void AppendTop(bson_t* reply) const;
  // One message in and its reply out.
  void CountMessage(int64_t bytes_in, int64_t bytes_out);

  // Appends opcounters, opcountersRepl, opLatencies and metrics to a
  // serverStatus reply, and bytesIn/bytesOut/numRequests to its `network`.
  void AppendSections(bson_t* reply) const;
  void AppendNetwork(bson_t* network) const;

 private:
  struct Latency {
    std::atomic<int64_t> micros{0}, ops{0};
  };
  std::atomic<int64_t> insert_{0}, query_{0}, update_{0}, delete_{0}, getmore_{0}, command_{0};
  Latency reads_, writes_, commands_;
  std::atomic<int64_t> docs_inserted_{0}, docs_updated_{0}, docs_deleted_{0}, docs_returned_{0};
  std::atomic<int64_t> keys_scanned_{0}, docs_scanned_{0};
  std::atomic<int64_t> bytes_in_{0}, bytes_out_{0}, requests_{0};
  struct CommandCounts {
    int64_t total = 0, failed = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, CommandCounts> per_command_;  // GUARDED_BY(mutex_)
  std::map<std::string, NamespaceLatency> per_namespace_;  // GUARDED_BY(mutex_); grows with the namespaces used
};

}  // namespace docket::commands
