// getParameter and setParameter: the server parameters Docket has, as
// mongod 6.0 answers for them. A parameter Docket does not have is refused
// (InvalidOptions, 72), never accepted and ignored; one that only start-up
// sets is refused at runtime (IllegalOperation, 20); a setParameter checks
// every value before it applies any, and answers `was`, the first one's
// previous value. Both run against the admin database only (Unauthorized, 13).
//
// Runtime parameters and what they change:
//   notablescan                     Engine::SetNoTableScan
//   ttlMonitorEnabled               Engine::SetTtlMonitorEnabled
//   ttlMonitorSleepSecs             Engine::SetTtlMonitorInterval (>= 1)
//   transactionLifetimeLimitSeconds ServerState::transaction_lifetime_seconds
//                                   (>= 1); the parking limit and the engine's
//                                   write wait follow it, kBlockedWriteMarginSeconds above, so that
//                                   a write blocked by an abandoned
//                                   transaction outlives it (issue 15 item 12)
// Start-up only: featureCompatibilityVersion, authenticationMechanisms,
// enableTestCommands.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "bson/builder.h"
#include "commands/args.h"
#include "commands/handlers.h"

namespace docket::commands {
namespace {

// A runtime parameter's value, checked: what `apply` will set.
struct Checked {
  std::function<void()> apply;
};

struct Parameter {
  const char* name;
  // Appends the current value under `name`. (A function pointer: bson_t's
  // alignment attribute does not survive a std::function's signature.)
  void (*get)(CommandContext&, bson_t*);
  // Checks a new value and returns what sets it; null for a start-up-only
  // parameter.
  std::function<Result<Checked>(CommandContext&, const bson_iter_t&)> check;
};

bool IsGenericField(std::string_view key) {
  return key.empty() || key[0] == '$' || key == "lsid" || key == "comment" || key == "apiVersion" ||
         key == "apiStrict" || key == "apiDeprecationErrors" || key == "txnNumber" || key == "autocommit" ||
         key == "startTransaction" || key == "readConcern" || key == "writeConcern" || key == "maxTimeMS";
}

// mongod takes any value with a truth value for a bool parameter
// (`notablescan: 1` in its manual).
Result<bool> BoolValue(const char* name, const bson_iter_t& value) {
  if (BSON_ITER_HOLDS_BOOL(&value) || BSON_ITER_HOLDS_NUMBER(&value)) return bson_iter_as_bool(&value);
  return Status(ErrorCode::kBadValue, std::string("Invalid value for parameter ") + name + ": expected a boolean");
}

// A whole number of at least `min` (int, long, or a double without a fraction).
Result<int64_t> WholeNumber(const char* name, const bson_iter_t& value, int64_t min) {
  if (!BSON_ITER_HOLDS_NUMBER(&value)) {
    return Status(ErrorCode::kBadValue, std::string("Invalid value for parameter ") + name + ": expected a number");
  }
  const double d = bson_iter_as_double(&value);
  if (!std::isfinite(d) || d != std::floor(d) || d > 2147483647.0) {
    return Status(ErrorCode::kBadValue, std::string("Invalid value for parameter ") + name +
                                            ": expected a whole 32-bit number");
  }
  const int64_t n = bson_iter_as_int64(&value);
  if (n < min) {
    return Status(ErrorCode::kBadValue, std::string("Invalid value for parameter ") + name + ": " +
                                            std::to_string(n) + " is not greater than or equal to " +
                                            std::to_string(min));
  }
  return n;
}

const std::vector<Parameter>& Parameters() {
  static const std::vector<Parameter> kParameters = {
      {"authenticationMechanisms",
       [](CommandContext&, bson_t* out) {
         bson_t array;
         BSON_APPEND_ARRAY_BEGIN(out, "authenticationMechanisms", &array);  // no authentication yet
         bson_append_array_end(out, &array);
       },
       nullptr},
      {"enableTestCommands",
       [](CommandContext& context, bson_t* out) {
         BSON_APPEND_BOOL(out, "enableTestCommands", context.server.test_commands);
       },
       nullptr},
      {"featureCompatibilityVersion",
       [](CommandContext&, bson_t* out) {
         bson_t fcv;
         BSON_APPEND_DOCUMENT_BEGIN(out, "featureCompatibilityVersion", &fcv);
         BSON_APPEND_UTF8(&fcv, "version", "6.0");
         bson_append_document_end(out, &fcv);
       },
       nullptr},
      {"notablescan",
       [](CommandContext& context, bson_t* out) {
         BSON_APPEND_BOOL(out, "notablescan", context.server.engine->no_table_scan());
       },
       [](CommandContext& context, const bson_iter_t& value) -> Result<Checked> {
         auto on = BoolValue("notablescan", value);
         if (!on.ok()) return on.status();
         Engine* engine = context.server.engine;
         return Checked{[engine, on = *on] { engine->SetNoTableScan(on); }};
       }},
      {"transactionLifetimeLimitSeconds",
       [](CommandContext& context, bson_t* out) {
         BSON_APPEND_INT32(out, "transactionLifetimeLimitSeconds",
                           static_cast<int32_t>(context.server.transaction_lifetime_seconds.load()));
       },
       [](CommandContext& context, const bson_iter_t& value) -> Result<Checked> {
         auto seconds = WholeNumber("transactionLifetimeLimitSeconds", value, 1);
         if (!seconds.ok()) return seconds.status();
         ServerState* server = &context.server;
         return Checked{[server, seconds = *seconds] {
           // Raised first, so that no blocked write gives up before the new
           // lifetime has freed what blocks it.
           (void)server->engine->SetWriteWaitSeconds(static_cast<int>(seconds + kBlockedWriteMarginSeconds));
           server->park_limit_seconds = seconds + kBlockedWriteMarginSeconds;
           server->transaction_lifetime_seconds = seconds;
         }};
       }},
      {"ttlMonitorEnabled",
       [](CommandContext& context, bson_t* out) {
         BSON_APPEND_BOOL(out, "ttlMonitorEnabled", context.server.engine->ttl_monitor_enabled());
       },
       [](CommandContext& context, const bson_iter_t& value) -> Result<Checked> {
         auto on = BoolValue("ttlMonitorEnabled", value);
         if (!on.ok()) return on.status();
         Engine* engine = context.server.engine;
         return Checked{[engine, on = *on] { engine->SetTtlMonitorEnabled(on); }};
       }},
      {"ttlMonitorSleepSecs",
       [](CommandContext& context, bson_t* out) {
         BSON_APPEND_INT32(out, "ttlMonitorSleepSecs", context.server.engine->ttl_monitor_interval());
       },
       [](CommandContext& context, const bson_iter_t& value) -> Result<Checked> {
         auto seconds = WholeNumber("ttlMonitorSleepSecs", value, 1);
         if (!seconds.ok()) return seconds.status();
         Engine* engine = context.server.engine;
         return Checked{[engine, seconds = *seconds] { (void)engine->SetTtlMonitorInterval(static_cast<int>(seconds)); }};
       }},
  };
  return kParameters;
}

const Parameter* Find(std::string_view name) {
  for (const Parameter& p : Parameters()) {
    if (name == p.name) return &p;
  }
  return nullptr;
}


// {name: {value, settableAtRuntime, settableAtStartup}}: getParameter's
// showDetails form.
void AppendDetails(CommandContext& context, const Parameter& p, bson_t* reply) {
  bson::Builder value;
  p.get(context, value.get());
  const Document one = value.Finish();
  bson_iter_t it;
  one.Find(p.name, &it);
  bson_t details;
  bson_append_document_begin(reply, p.name, -1, &details);
  bson_append_iter(&details, "value", -1, &it);
  BSON_APPEND_BOOL(&details, "settableAtRuntime", p.check != nullptr);
  BSON_APPEND_BOOL(&details, "settableAtStartup", true);
  bson_append_document_end(reply, &details);
}

}  // namespace

// getParameter: "*" (or {allParameters: true}) lists every parameter; named
// ones are answered and unknown names passed over, as mongod does, which
// refuses only a request that names none it knows; {showDetails: true} adds
// whether each is settable.
Status GetParameter(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "getParameter"));
  bson_iter_t it;
  request.body->Iterate(&it);
  bson_iter_next(&it);  // getParameter itself
  bool all = BSON_ITER_HOLDS_UTF8(&it) && std::string_view(bson_iter_utf8(&it, nullptr)) == "*";
  bool details = false;
  if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
    bson_iter_t option;
    bson_iter_recurse(&it, &option);
    while (bson_iter_next(&option)) {
      const std::string_view key = bson_iter_key(&option);
      if (key == "allParameters") all = bson_iter_as_bool(&option);
      else if (key == "showDetails") details = bson_iter_as_bool(&option);
      else return Status(ErrorCode::kIDLUnknownField, "BSON field 'getParameter." + std::string(key) + "' is an unknown field.");
    }
  }
  std::vector<const Parameter*> asked;
  if (all) {
    for (const Parameter& p : Parameters()) asked.push_back(&p);
  } else {
    while (bson_iter_next(&it)) {
      const std::string_view key = bson_iter_key(&it);
      if (IsGenericField(key)) continue;
      if (const Parameter* p = Find(key)) asked.push_back(p);
    }
    if (asked.empty()) return Status(ErrorCode::kInvalidOptions, "no option found to get");
  }
  for (const Parameter* p : asked) {
    if (details) AppendDetails(context, *p, reply);
    else p->get(context, reply);
  }
  return Status::OK();
}

Status SetParameter(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "setParameter"));
  bson_iter_t it;
  request.body->Iterate(&it);
  bson_iter_next(&it);  // setParameter itself
  std::vector<std::string> seen;
  std::vector<Checked> changes;
  const Parameter* first = nullptr;
  while (bson_iter_next(&it)) {
    const std::string key = bson_iter_key(&it);
    if (IsGenericField(key)) continue;
    const Parameter* p = Find(key);
    if (p == nullptr) {
      return Status(ErrorCode::kInvalidOptions,
                    "attempted to set unrecognized parameter [" + key + "], use help:true to see options ");
    }
    if (p->check == nullptr) {
      return Status(ErrorCode::kIllegalOperation, "not allowed to change [" + key + "] at runtime");
    }
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return Status(ErrorCode::kInvalidOptions,
                    "attempted to set parameter [" + key + "] twice in the same setParameter command");
    }
    seen.push_back(key);
    auto checked = p->check(context, it);
    if (!checked.ok()) return checked.status();
    changes.push_back(std::move(checked).value());
    if (first == nullptr) first = p;
  }
  if (first == nullptr) {
    return Status(ErrorCode::kInvalidOptions, "no option found to set, use help:true to see options ");
  }
  // `was`: the first parameter's value before the change.
  bson::Builder before;
  first->get(context, before.get());
  const Document previous = before.Finish();
  bson_iter_t was;
  if (previous.Find(first->name, &was)) bson_append_iter(reply, "was", -1, &was);
  for (const Checked& change : changes) change.apply();
  return Status::OK();
}

}  // namespace docket::commands
