#include "commands/server_metrics.h"

#include "bson/value.h"

namespace docket::commands {

namespace {

int64_t IntField(const Document& doc, const char* key) {
  bson_iter_t it;
  return doc.Find(key, &it) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : 0;
}

// The number of documents in the reply's cursor batch.
int64_t BatchLength(const Document& reply) {
  bson_iter_t cursor, field, item;
  if (!reply.Find("cursor", &cursor) || !BSON_ITER_HOLDS_DOCUMENT(&cursor)) return 0;
  bson_iter_recurse(&cursor, &field);
  while (bson_iter_next(&field)) {
    const std::string_view key = bson_iter_key(&field);
    if ((key == "firstBatch" || key == "nextBatch") && BSON_ITER_HOLDS_ARRAY(&field)) {
      int64_t n = 0;
      bson_iter_recurse(&field, &item);
      while (bson_iter_next(&item)) ++n;
      return n;
    }
  }
  return 0;
}

void AppendLatency(bson_t* out, const char* key, int64_t micros, int64_t ops) {
  bson_t one;
  BSON_APPEND_DOCUMENT_BEGIN(out, key, &one);
  BSON_APPEND_INT64(&one, "latency", micros);
  BSON_APPEND_INT64(&one, "ops", ops);
  bson_append_document_end(out, &one);
}

}  // namespace

void ServerMetrics::CountCommand(const std::string& name, const std::string& ns, int64_t statements,
                                 const Document& reply, int64_t micros, const OperationMetrics& examined) {
  bson_iter_t ok;
  const bool failed = reply.Find("ok", &ok) && bson_iter_as_double(&ok) != 1.0;
  Latency* latency = &commands_;
  if (name == "insert") {
    insert_ += IntField(reply, "n");
    docs_inserted_ += IntField(reply, "n");
    latency = &writes_;
  } else if (name == "update") {
    update_ += statements;
    docs_updated_ += IntField(reply, "nModified");
    latency = &writes_;
  } else if (name == "delete") {
    delete_ += statements;
    docs_deleted_ += IntField(reply, "n");
    latency = &writes_;
  } else if (name == "findAndModify" || name == "findandmodify") {
    command_ += 1;
    latency = &writes_;
  } else if (name == "find") {
    query_ += 1;
    latency = &reads_;
  } else if (name == "getMore") {
    getmore_ += 1;
    latency = &reads_;
  } else {
    command_ += 1;
    if (name == "aggregate" || name == "count" || name == "distinct") latency = &reads_;
  }
  docs_returned_ += BatchLength(reply);
  keys_scanned_ += examined.keys_examined;
  docs_scanned_ += examined.docs_examined;
  latency->micros += micros;
  latency->ops += 1;
  std::lock_guard lock(mutex_);
  CommandCounts& counts = per_command_[name];
  counts.total += 1;
  if (failed) counts.failed += 1;
  if (ns.empty()) return;
  NamespaceLatency& at = per_namespace_[ns];
  at.total.Add(micros);
  (name == "find"        ? at.queries
   : name == "getMore"   ? at.getmore
   : name == "insert"    ? at.insert
   : name == "update"    ? at.update
   : name == "delete"    ? at.remove
                         : at.commands).Add(micros);
  if (latency == &reads_) {
    at.reads_micros += micros;
    at.reads_ops += 1;
  } else if (latency == &writes_) {
    at.writes_micros += micros;
    at.writes_ops += 1;
  } else {
    at.commands_micros += micros;
    at.commands_ops += 1;
  }
}

void ServerMetrics::AppendTop(bson_t* reply) const {
  bson_t totals;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "totals", &totals);
  BSON_APPEND_UTF8(&totals, "note", "all times in microseconds");
  auto usage = [](bson_t* out, const char* key, int64_t micros, int64_t count) {
    bson_t one;
    BSON_APPEND_DOCUMENT_BEGIN(out, key, &one);
    BSON_APPEND_INT64(&one, "time", micros);
    BSON_APPEND_INT64(&one, "count", count);
    bson_append_document_end(out, &one);
  };
  std::lock_guard lock(mutex_);
  for (const auto& [ns, at] : per_namespace_) {
    bson_t one;
    bson_append_document_begin(&totals, ns.c_str(), -1, &one);
    usage(&one, "total", at.total.micros, at.total.count);
    usage(&one, "readLock", at.reads_micros, at.reads_ops);
    usage(&one, "writeLock", at.writes_micros + at.commands_micros, at.writes_ops + at.commands_ops);
    usage(&one, "queries", at.queries.micros, at.queries.count);
    usage(&one, "getmore", at.getmore.micros, at.getmore.count);
    usage(&one, "insert", at.insert.micros, at.insert.count);
    usage(&one, "update", at.update.micros, at.update.count);
    usage(&one, "remove", at.remove.micros, at.remove.count);
    usage(&one, "commands", at.commands.micros, at.commands.count);
    bson_append_document_end(&totals, &one);
  }
  bson_append_document_end(reply, &totals);
}

void ServerMetrics::AppendLatencyStats(const std::string& ns, const char* key, bson_t* out) const {
  const NamespaceLatency at = LatencyOf(ns);
  bson_t latency;
  BSON_APPEND_DOCUMENT_BEGIN(out, key, &latency);
  AppendLatency(&latency, "reads", at.reads_micros, at.reads_ops);
  AppendLatency(&latency, "writes", at.writes_micros, at.writes_ops);
  AppendLatency(&latency, "commands", at.commands_micros, at.commands_ops);
  AppendLatency(&latency, "transactions", 0, 0);
  bson_append_document_end(out, &latency);
}

ServerMetrics::NamespaceLatency ServerMetrics::LatencyOf(const std::string& ns) const {
  std::lock_guard lock(mutex_);
  auto found = per_namespace_.find(ns);
  return found == per_namespace_.end() ? NamespaceLatency() : found->second;
}

void ServerMetrics::CountMessage(int64_t bytes_in, int64_t bytes_out) {
  bytes_in_ += bytes_in;
  bytes_out_ += bytes_out;
  requests_ += 1;
}

void ServerMetrics::AppendNetwork(bson_t* network) const {
  BSON_APPEND_INT64(network, "bytesIn", bytes_in_.load());
  BSON_APPEND_INT64(network, "bytesOut", bytes_out_.load());
  BSON_APPEND_INT64(network, "numRequests", requests_.load());
}

void ServerMetrics::AppendSections(bson_t* reply) const {
  bson_t counters, repl, latencies, metrics, commands, document, executor;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "opcounters", &counters);
  BSON_APPEND_INT64(&counters, "insert", insert_.load());
  BSON_APPEND_INT64(&counters, "query", query_.load());
  BSON_APPEND_INT64(&counters, "update", update_.load());
  BSON_APPEND_INT64(&counters, "delete", delete_.load());
  BSON_APPEND_INT64(&counters, "getmore", getmore_.load());
  BSON_APPEND_INT64(&counters, "command", command_.load());
  bson_append_document_end(reply, &counters);
  // A single node applies no replicated operations.
  BSON_APPEND_DOCUMENT_BEGIN(reply, "opcountersRepl", &repl);
  for (const char* key : {"insert", "query", "update", "delete", "getmore", "command"}) BSON_APPEND_INT64(&repl, key, 0);
  bson_append_document_end(reply, &repl);
  BSON_APPEND_DOCUMENT_BEGIN(reply, "opLatencies", &latencies);
  AppendLatency(&latencies, "reads", reads_.micros.load(), reads_.ops.load());
  AppendLatency(&latencies, "writes", writes_.micros.load(), writes_.ops.load());
  AppendLatency(&latencies, "commands", commands_.micros.load(), commands_.ops.load());
  bson_append_document_end(reply, &latencies);
  BSON_APPEND_DOCUMENT_BEGIN(reply, "metrics", &metrics);
  BSON_APPEND_DOCUMENT_BEGIN(&metrics, "commands", &commands);
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, counts] : per_command_) {
      bson_t one;
      bson_append_document_begin(&commands, name.c_str(), -1, &one);
      BSON_APPEND_INT64(&one, "failed", counts.failed);
      BSON_APPEND_INT64(&one, "total", counts.total);
      bson_append_document_end(&commands, &one);
    }
  }
  bson_append_document_end(&metrics, &commands);
  BSON_APPEND_DOCUMENT_BEGIN(&metrics, "document", &document);
  BSON_APPEND_INT64(&document, "deleted", docs_deleted_.load());
  BSON_APPEND_INT64(&document, "inserted", docs_inserted_.load());
  BSON_APPEND_INT64(&document, "returned", docs_returned_.load());
  BSON_APPEND_INT64(&document, "updated", docs_updated_.load());
  bson_append_document_end(&metrics, &document);
  BSON_APPEND_DOCUMENT_BEGIN(&metrics, "queryExecutor", &executor);
  BSON_APPEND_INT64(&executor, "scanned", keys_scanned_.load());
  BSON_APPEND_INT64(&executor, "scannedObjects", docs_scanned_.load());
  bson_append_document_end(&metrics, &executor);
  bson_append_document_end(reply, &metrics);
}

}  // namespace docket::commands
