#include "commands/profiler.h"

#include <chrono>
#include <random>

#include "bson/append_element.h"
#include "bson/builder.h"
#include "commands/command.h"
#include "commands/handlers.h"
#include "commands/args.h"
#include "commands/ram_log.h"
#include "bson/value.h"

namespace docket::commands {

namespace {

// mongod's `op` for a command.
const char* OpOf(const std::string& name) {
  if (name == "find") return "query";
  if (name == "insert") return "insert";
  if (name == "update") return "update";
  if (name == "delete") return "remove";
  if (name == "getMore") return "getmore";
  return "command";
}

int64_t IntField(const Document& doc, const char* key, int64_t fallback = -1) {
  bson_iter_t it;
  return doc.Find(key, &it) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : fallback;
}

// The reply's cursor: its id and the length of its batch.
void CursorFigures(const Document& reply, int64_t* id, int64_t* returned) {
  bson_iter_t cursor, field;
  if (!reply.Find("cursor", &cursor) || !BSON_ITER_HOLDS_DOCUMENT(&cursor)) return;
  bson_iter_recurse(&cursor, &field);
  while (bson_iter_next(&field)) {
    const std::string_view key = bson_iter_key(&field);
    if (key == "id") *id = bson_iter_as_int64(&field);
    if ((key == "firstBatch" || key == "nextBatch") && BSON_ITER_HOLDS_ARRAY(&field)) {
      bson_iter_t item;
      bson_iter_recurse(&field, &item);
      *returned = 0;
      while (bson_iter_next(&item)) ++*returned;
    }
  }
}

// The command for a log line: whole, or a marker when it is large.
std::string CommandJson(const Document& body) {
  std::string json = body.ToJson();
  return json.size() <= 4096 ? json : "{\"$truncated\":true}";
}

// The slow-query line's plan figures, as mongod logs them:
// ,"planSummary":"IXSCAN { a: 1 }","keysExamined":N,"docsExamined":N[,"keysInserted":N]...
std::string PlanFiguresJson(const OperationMetrics& metrics) {
  std::string out;
  if (!metrics.plan_summary.empty()) {
    std::string escaped;
    for (char c : metrics.plan_summary) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    out += ",\"planSummary\":\"" + escaped + "\"";
  }
  out += ",\"keysExamined\":" + std::to_string(metrics.keys_examined);
  out += ",\"docsExamined\":" + std::to_string(metrics.docs_examined);
  if (metrics.keys_inserted > 0) out += ",\"keysInserted\":" + std::to_string(metrics.keys_inserted);
  if (metrics.keys_deleted > 0) out += ",\"keysDeleted\":" + std::to_string(metrics.keys_deleted);
  return out;
}

// An entry's closing fields: ts, client, appName, allUsers, user.
void AppendWhenAndWho(const CommandContext& context, bson_t* out) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  BSON_APPEND_DATE_TIME(out, "ts", now);
  const std::string& remote = context.connection.remote;
  const std::string client = remote.substr(0, remote.rfind(':'));
  BSON_APPEND_UTF8(out, "client", client.c_str());
  if (!context.connection.app_name.empty()) BSON_APPEND_UTF8(out, "appName", context.connection.app_name.c_str());
  bson_t users;
  BSON_APPEND_ARRAY_BEGIN(out, "allUsers", &users);
  bson_append_array_end(out, &users);
  BSON_APPEND_UTF8(out, "user", "");
}

// The entry mongod would write for this operation.
Document Entry(const CommandContext& context, const CommandRequest& request, const std::string& name,
               const std::string& ns, const Document& reply, int64_t millis, const OperationMetrics& metrics) {
  constexpr size_t kMaxCommandBytes = 50 * 1024;  // mongod truncates larger commands the same way
  bson::Builder b;
  BSON_APPEND_UTF8(b.get(), "op", OpOf(name));
  BSON_APPEND_UTF8(b.get(), "ns", ns.c_str());
  if (request.body->size() <= kMaxCommandBytes) {
    bson::AppendDocument(b.get(), "command", *request.body);
  } else {
    bson_t truncated;
    BSON_APPEND_DOCUMENT_BEGIN(b.get(), "command", &truncated);
    const std::string json = request.body->ToJson().substr(0, 1000);
    BSON_APPEND_UTF8(&truncated, "$truncated", json.c_str());
    bson_append_document_end(b.get(), &truncated);
  }
  BSON_APPEND_INT64(b.get(), "keysExamined", metrics.keys_examined);
  BSON_APPEND_INT64(b.get(), "docsExamined", metrics.docs_examined);
  if (metrics.keys_inserted > 0) BSON_APPEND_INT64(b.get(), "keysInserted", metrics.keys_inserted);
  if (metrics.keys_deleted > 0) BSON_APPEND_INT64(b.get(), "keysDeleted", metrics.keys_deleted);
  int64_t cursor_id = 0, returned = -1;
  CursorFigures(reply, &cursor_id, &returned);
  if (cursor_id != 0) BSON_APPEND_INT64(b.get(), "cursorid", cursor_id);
  if (returned >= 0) BSON_APPEND_INT64(b.get(), "nreturned", returned);
  const int64_t n = IntField(reply, "n");
  if (name == "insert" && n >= 0) BSON_APPEND_INT64(b.get(), "ninserted", n);
  if (name == "delete" && n >= 0) BSON_APPEND_INT64(b.get(), "ndeleted", n);
  if (name == "update" && n >= 0) {
    BSON_APPEND_INT64(b.get(), "nMatched", n);
    BSON_APPEND_INT64(b.get(), "nModified", IntField(reply, "nModified", 0));
  }
  BSON_APPEND_INT32(b.get(), "numYield", 0);
  BSON_APPEND_INT64(b.get(), "responseLength", static_cast<int64_t>(reply.size()));
  BSON_APPEND_UTF8(b.get(), "protocol", "op_msg");
  BSON_APPEND_INT64(b.get(), "millis", millis);
  if (!metrics.plan_summary.empty()) BSON_APPEND_UTF8(b.get(), "planSummary", metrics.plan_summary.c_str());
  bson_iter_t ok;
  if (reply.Find("ok", &ok) && bson_iter_as_double(&ok) != 1.0) {
    BSON_APPEND_DOUBLE(b.get(), "ok", 0.0);
    bson_iter_t field;
    if (reply.Find("code", &field)) BSON_APPEND_INT64(b.get(), "errCode", bson_iter_as_int64(&field));
    if (reply.Find("codeName", &field)) docket::bson::AppendElement(b.get(), "errName", -1, &field);
    if (reply.Find("errmsg", &field)) docket::bson::AppendElement(b.get(), "errMsg", -1, &field);
  }
  AppendWhenAndWho(context, b.get());
  return b.Finish();
}

// The entry mongod writes for one statement of an update or delete.
Document StatementEntry(const CommandContext& context, const std::string& name, const std::string& ns,
                        const ProfiledStatement& statement) {
  bson::Builder b;
  BSON_APPEND_UTF8(b.get(), "op", OpOf(name));
  BSON_APPEND_UTF8(b.get(), "ns", ns.c_str());
  bson::AppendDocument(b.get(), "command", statement.statement);
  const OperationMetrics& metrics = statement.metrics;
  BSON_APPEND_INT64(b.get(), "keysExamined", metrics.keys_examined);
  BSON_APPEND_INT64(b.get(), "docsExamined", metrics.docs_examined);
  if (name == "update") {
    BSON_APPEND_INT64(b.get(), "nMatched", statement.matched);
    BSON_APPEND_INT64(b.get(), "nModified", statement.modified);
    if (statement.upserted) BSON_APPEND_INT64(b.get(), "nUpserted", 1);
  } else {
    BSON_APPEND_INT64(b.get(), "ndeleted", statement.deleted);
  }
  if (metrics.keys_inserted > 0) BSON_APPEND_INT64(b.get(), "keysInserted", metrics.keys_inserted);
  if (metrics.keys_deleted > 0) BSON_APPEND_INT64(b.get(), "keysDeleted", metrics.keys_deleted);
  BSON_APPEND_INT32(b.get(), "numYield", 0);
  BSON_APPEND_INT64(b.get(), "millis", statement.micros / 1000);
  if (!metrics.plan_summary.empty()) BSON_APPEND_UTF8(b.get(), "planSummary", metrics.plan_summary.c_str());
  if (!statement.status.ok()) {
    BSON_APPEND_DOUBLE(b.get(), "ok", 0.0);
    BSON_APPEND_INT64(b.get(), "errCode", static_cast<int64_t>(statement.status.code()));
    const std::string code_name = ErrorCodeName(statement.status.code());
    BSON_APPEND_UTF8(b.get(), "errName", code_name.c_str());
    BSON_APPEND_UTF8(b.get(), "errMsg", statement.status.message().c_str());
  }
  AppendWhenAndWho(context, b.get());
  return b.Finish();
}

}  // namespace

Status Profile(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  return context.server.profiler.Configure(request.db, *request.body, reply);
}

Status Profiler::Configure(const std::string& db, const Document& command, bson_t* reply) {
  bson_iter_t it;
  if (!command.Find("profile", &it) || !BSON_ITER_HOLDS_NUMBER(&it)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'profile.profile' is the wrong type, expected a number");
  }
  const double level = bson_iter_as_double(&it);
  if (level != -1 && level != 0 && level != 1 && level != 2) {
    return Status(ErrorCode::kBadValue, "Invalid profiling level: " + std::to_string(static_cast<int64_t>(level)));
  }
  std::optional<int64_t> slow_ms;
  std::optional<double> sample_rate;
  std::optional<Document> filter;
  bool unset_filter = false;
  if (command.Find("slowms", &it)) {
    if (!BSON_ITER_HOLDS_NUMBER(&it)) return Status(ErrorCode::kTypeMismatch, "BSON field 'profile.slowms' is the wrong type, expected a number");
    slow_ms = bson_iter_as_int64(&it);
    if (*slow_ms < INT32_MIN || *slow_ms > INT32_MAX) {  // mongod keeps it in an int
      return Status(ErrorCode::kBadValue, "'slowms' must fit in a 32-bit integer");
    }
  }
  if (command.Find("sampleRate", &it)) {
    if (!BSON_ITER_HOLDS_NUMBER(&it)) return Status(ErrorCode::kTypeMismatch, "BSON field 'profile.sampleRate' is the wrong type, expected a number");
    sample_rate = bson_iter_as_double(&it);
    if (!(*sample_rate >= 0.0 && *sample_rate <= 1.0)) {
      return Status(ErrorCode::kBadValue, "'sampleRate' must be between 0.0 and 1.0 inclusive");
    }
  }
  std::shared_ptr<const query::Filter> compiled;
  if (command.Find("filter", &it)) {
    if (BSON_ITER_HOLDS_UTF8(&it) && std::string_view(bson_iter_utf8(&it, nullptr)) == "unset") {
      unset_filter = true;
    } else if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
      filter = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it)));
      auto f = query::Filter::Compile(*filter);
      if (!f.ok()) return f.status();
      compiled = std::make_shared<const query::Filter>(std::move(f).value());
    } else {
      return Status(ErrorCode::kTypeMismatch, "the filter must be an object or the string 'unset'");
    }
  }
  std::lock_guard lock(mutex_);
  DatabaseSettings& settings = per_db_[db];
  BSON_APPEND_INT32(reply, "was", settings.level);
  BSON_APPEND_INT32(reply, "slowms", static_cast<int32_t>(slow_ms_.load()));  // an int, as mongod
  BSON_APPEND_DOUBLE(reply, "sampleRate", sample_rate_);
  if (!settings.filter.empty()) {
    bson::AppendDocument(reply, "filter", settings.filter);
    BSON_APPEND_UTF8(reply, "note",
                     "When a filter expression is set, slowms and sampleRate are not used for profiling and "
                     "slow-query log lines.");
  }
  if (level == -1) return Status::OK();
  databases_profiled_ += (level > 0 ? 1 : 0) - (settings.level > 0 ? 1 : 0);
  settings.level = static_cast<int>(level);
  if (slow_ms) slow_ms_ = *slow_ms;
  if (sample_rate) sample_rate_ = *sample_rate;
  if (unset_filter) {
    settings.filter = Document();
    settings.compiled = nullptr;
  } else if (filter) {
    settings.filter = *filter;
    settings.compiled = std::move(compiled);
  }
  return Status::OK();
}

Profiler::AtStart Profiler::Begin(const std::string& db) const {
  if (databases_profiled_.load(std::memory_order_relaxed) == 0) return AtStart();
  std::lock_guard lock(mutex_);
  auto found = per_db_.find(db);
  if (found == per_db_.end()) return AtStart();
  return AtStart{found->second.level, found->second.compiled};
}

void Profiler::Record(CommandContext& context, const CommandRequest& request, const std::string& name,
                      const Document& reply, int64_t micros, const OperationMetrics& metrics, const AtStart& settings,
                      const std::vector<ProfiledStatement>& statements) {
  const int64_t millis = micros / 1000;
  const int64_t slow_ms = slow_ms_.load(std::memory_order_relaxed);
  if (settings.level == 0 && millis < slow_ms) return;  // the common case: nothing to do
  if (context.connection.parked || context.connection.close_without_reply) return;  // it runs again
  const std::string coll = CommandCollection(name, *request.body);
  if (coll == "system.profile") return;
  const std::string ns = request.db + "." + (coll.empty() ? "$cmd" : coll);
  const int level = settings.level;
  const std::shared_ptr<const query::Filter>& filter = settings.filter;
  double sample_rate = 1.0;
  {
    std::lock_guard lock(mutex_);
    sample_rate = sample_rate_;
  }
  const bool slow = millis >= slow_ms;  // slowms 0 logs every operation, as mongod
  if (!slow && level == 0) return;
  Document entry = Entry(context, request, name, ns, reply, millis, metrics);
  if (slow) {
    context.server.global_log.Add(MongodLogLine('I', "COMMAND", 51803, "conn" + std::to_string(context.connection.id),
                                                "Slow query", {},
                                                "{\"type\":\"command\",\"ns\":\"" + ns + "\",\"command\":" +
                                                    CommandJson(*request.body) + PlanFiguresJson(metrics) +
                                                    ",\"durationMillis\":" + std::to_string(millis) + "}"));
  }
  // What level 1 keeps: an operation its filter matches, or (without one)
  // a slow one, sampled.
  const auto wanted = [&](const Document& candidate, int64_t candidate_millis) {
    if (level == 2) return true;
    if (level != 1) return false;
    if (filter) return filter->Matches(candidate);
    thread_local std::mt19937_64 random(std::random_device{}());
    return candidate_millis >= slow_ms && std::uniform_real_distribution<double>(0.0, 1.0)(random) < sample_rate;
  };
  std::vector<Document> kept;
  if ((name == "update" || name == "delete") && !statements.empty()) {
    for (const ProfiledStatement& statement : statements) {
      Document one = StatementEntry(context, name, ns, statement);
      if (wanted(one, statement.micros / 1000)) kept.push_back(std::move(one));
    }
  } else if (wanted(entry, millis)) {
    kept.push_back(std::move(entry));
  }
  if (kept.empty()) return;
  Engine* engine = context.server.engine;
  CollectionOptions capped;
  capped.capped = true;
  capped.size = kProfileCollectionBytes;
  Status created = engine->CreateCollection(request.db, "system.profile", capped);
  if (!created.ok() && created.code() != ErrorCode::kNamespaceExists) return;  // the command's answer stands
  Collection profile = engine->collection(request.db, "system.profile");
  for (const Document& one : kept) (void)profile.InsertOne(one);
}

}  // namespace docket::commands
