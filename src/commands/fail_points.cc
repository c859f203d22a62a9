#include "commands/fail_points.h"

#include <algorithm>

#include "commands/args.h"

namespace docket::commands {
namespace {

Status BadFailPoint(const std::string& why) { return Status(ErrorCode::kBadValue, why); }

bool IsNumber(const bson_iter_t& it) {
  return BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_DOUBLE(&it);
}

// A field of `data` read as a flag ({closeConnection: true}).
bool Flag(const Document& data, const char* key) {
  bson_iter_t it;
  return data.Find(key, &it) && bson_iter_as_bool(&it);
}

Result<std::optional<ErrorCode>> CodeField(const Document& data, const char* key) {
  bson_iter_t it;
  if (!data.Find(key, &it)) return std::optional<ErrorCode>();
  if (!IsNumber(it)) return BadFailPoint(std::string("fail point data.") + key + " must be a number");
  return std::optional<ErrorCode>(static_cast<ErrorCode>(bson_iter_as_int64(&it)));
}

}  // namespace

Status FailPoints::Configure(const Document& body, bson_t* reply) {
  auto name = GetStringField(body, "configureFailPoint", true);
  if (!name.ok()) return name.status();
  Mode mode;
  bson_iter_t it;
  if (!body.Find("mode", &it)) return BadFailPoint("configureFailPoint needs a mode");
  if (BSON_ITER_HOLDS_UTF8(&it)) {
    const std::string m = bson_iter_utf8(&it, nullptr);
    if (m == "alwaysOn") mode.kind = Mode::Kind::kAlwaysOn;
    else if (m == "off") mode.kind = Mode::Kind::kOff;
    else return BadFailPoint("unknown fail point mode: " + m);
  } else if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
    Document m = SubDocument(it);
    bson_iter_t field;
    if (m.Find("times", &field) && IsNumber(field)) {
      mode.kind = Mode::Kind::kTimes;
      mode.count = bson_iter_as_int64(&field);
    } else if (m.Find("skip", &field) && IsNumber(field)) {
      mode.kind = Mode::Kind::kSkip;
      mode.count = bson_iter_as_int64(&field);
    } else if (m.Find("activationProbability", &field) && IsNumber(field)) {
      mode.kind = Mode::Kind::kProbability;
      mode.probability = bson_iter_as_double(&field);
      if (mode.probability < 0 || mode.probability > 1) return BadFailPoint("activationProbability must be in [0, 1]");
    } else {
      return BadFailPoint("mode must be 'alwaysOn', 'off', {times: n}, {skip: n} or {activationProbability: p}");
    }
    if (mode.count < 0) return BadFailPoint("mode's count must not be negative");
    if (mode.kind == Mode::Kind::kTimes && mode.count == 0) mode.kind = Mode::Kind::kOff;
  } else {
    return BadFailPoint("mode must be a string or an object");
  }
  Document data;
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "data", &data));

  std::lock_guard lock(mutex_);
  if (*name == "failCommand") {
    FailCommandAction action;
    std::vector<std::string> commands;
    std::string app_name;
    if (mode.kind != Mode::Kind::kOff) {
      if (!data.Find("failCommands", &it) || !BSON_ITER_HOLDS_ARRAY(&it)) {
        return BadFailPoint("failCommand needs data.failCommands, an array of command names");
      }
      bson_iter_t item;
      bson_iter_recurse(&it, &item);
      while (bson_iter_next(&item)) {
        if (!BSON_ITER_HOLDS_UTF8(&item)) return BadFailPoint("data.failCommands must hold strings");
        commands.emplace_back(bson_iter_utf8(&item, nullptr));
      }
      action.close_connection = Flag(data, "closeConnection");
      auto code = CodeField(data, "errorCode");
      if (!code.ok()) return code.status();
      action.error = *code;
      if (Flag(data, "blockConnection")) {
        auto ms = GetIntField(data, "blockTimeMS", 0);
        if (!ms.ok()) return ms.status();
        if (*ms <= 0) return BadFailPoint("blockConnection needs a positive blockTimeMS");
        action.block_ms = std::min<int64_t>(*ms, 3600 * 1000);
      }
      if (data.Find("writeConcernError", &it)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return BadFailPoint("data.writeConcernError must be an object");
        action.write_concern_error = SubDocument(it);
      }
      if (data.Find("errorLabels", &it)) {
        if (!BSON_ITER_HOLDS_ARRAY(&it)) return BadFailPoint("data.errorLabels must be an array");
        std::vector<std::string> labels;
        bson_iter_recurse(&it, &item);
        while (bson_iter_next(&item)) {
          if (!BSON_ITER_HOLDS_UTF8(&item)) return BadFailPoint("data.errorLabels must hold strings");
          labels.emplace_back(bson_iter_utf8(&item, nullptr));
        }
        action.error_labels = std::move(labels);
      }
      auto app = GetStringField(data, "appName", false);
      if (!app.ok()) return app.status();
      app_name = *app;
    }
    BSON_APPEND_INT64(reply, "count", fail_command_fired_);
    fail_command_mode_ = mode;
    fail_commands_ = std::move(commands);
    fail_app_name_ = std::move(app_name);
    fail_action_ = std::move(action);
    return Status::OK();
  }
  if (*name == "onPrimaryTransactionalWrite") {
    TransactionalWriteAction action;
    auto code = CodeField(data, "failBeforeCommitExceptionCode");
    if (!code.ok()) return code.status();
    action.fail_before_commit = *code;
    bson_iter_t close;
    action.close_connection = !data.Find("closeConnection", &close) || bson_iter_as_bool(&close);
    BSON_APPEND_INT64(reply, "count", transactional_write_fired_);
    transactional_write_mode_ = mode;
    transactional_write_action_ = action;
    return Status::OK();
  }
  if (*name == "failGetMoreAfterCursorCheckout") {
    auto code = CodeField(data, "errorCode");
    if (!code.ok()) return code.status();
    if (mode.kind != Mode::Kind::kOff && !*code) return BadFailPoint("failGetMoreAfterCursorCheckout needs data.errorCode");
    BSON_APPEND_INT64(reply, "count", get_more_fired_);
    get_more_mode_ = mode;
    get_more_error_ = code->value_or(ErrorCode::kInternalError);
    return Status::OK();
  }
  return BadFailPoint("Unknown fail point: " + *name);
}

bool FailPoints::Fire(Mode* mode) {
  switch (mode->kind) {
    case Mode::Kind::kOff:
      return false;
    case Mode::Kind::kAlwaysOn:
      return true;
    case Mode::Kind::kTimes:
      if (--mode->count <= 0) mode->kind = Mode::Kind::kOff;
      return true;
    case Mode::Kind::kSkip:
      if (mode->count > 0) {
        --mode->count;
        return false;
      }
      return true;
    case Mode::Kind::kProbability:
      return std::uniform_real_distribution<double>(0.0, 1.0)(random_) < mode->probability;
  }
  return false;
}

std::optional<FailCommandAction> FailPoints::CheckFailCommand(std::string_view command, std::string_view app_name) {
  std::lock_guard lock(mutex_);
  if (fail_command_mode_.kind == Mode::Kind::kOff) return std::nullopt;
  if (std::find(fail_commands_.begin(), fail_commands_.end(), command) == fail_commands_.end()) return std::nullopt;
  if (!fail_app_name_.empty() && fail_app_name_ != app_name) return std::nullopt;
  if (!Fire(&fail_command_mode_)) return std::nullopt;
  ++fail_command_fired_;
  return fail_action_;
}

std::optional<ErrorCode> FailPoints::CheckGetMoreAfterCheckout() {
  std::lock_guard lock(mutex_);
  if (!Fire(&get_more_mode_)) return std::nullopt;
  ++get_more_fired_;
  return get_more_error_;
}

std::optional<TransactionalWriteAction> FailPoints::CheckTransactionalWrite() {
  std::lock_guard lock(mutex_);
  if (!Fire(&transactional_write_mode_)) return std::nullopt;
  ++transactional_write_fired_;
  return transactional_write_action_;
}

}  // namespace docket::commands
