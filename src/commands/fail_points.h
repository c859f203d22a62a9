// The fail points that drivers' test suites arm with configureFailPoint, as
// mongod has them under enableTestCommands (docket serve
// --enable-test-commands):
//
//   failCommand                   chosen commands fail with an error code,
//                                 close their connection without a reply,
//                                 block first, or report a writeConcernError
//                                 (data: failCommands, errorCode,
//                                 closeConnection, blockConnection +
//                                 blockTimeMS, writeConcernError, errorLabels,
//                                 appName)
//   onPrimaryTransactionalWrite   a retryable write closes its connection
//                                 after it committed (its retry must get the
//                                 first reply), or fails before it runs with
//                                 data.failBeforeCommitExceptionCode
//   failGetMoreAfterCursorCheckout  a getMore fails with data.errorCode once
//                                 it holds its cursor (which it then kills)
//
// Modes: "alwaysOn", "off", {times: n}, {skip: n}, {activationProbability: p}.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <bson/bson.h>

#include "docket/document.h"
#include "docket/status.h"

namespace docket::commands {

// What an armed failCommand does to one command.
struct FailCommandAction {
  bool close_connection = false;
  int64_t block_ms = 0;                         // wait this long first
  std::optional<ErrorCode> error;               // fail with this code, without running
  std::optional<Document> write_concern_error;  // run, then report this writeConcernError
  std::optional<std::vector<std::string>> error_labels;  // replace the computed errorLabels
};

// What an armed onPrimaryTransactionalWrite does to one retryable write.
struct TransactionalWriteAction {
  std::optional<ErrorCode> fail_before_commit;  // fail with this code without writing
  bool close_connection = true;                 // else: close after the write, without a reply
};

// Thread-safe: every member takes mutex_.
class FailPoints {
 public:
  // {configureFailPoint: name, mode, data}. Appends {count: <times the
  // point fired before>}. Errors: BadValue for an unknown point or mode.
  Status Configure(const Document& body, bson_t* reply);

  // Consumes one activation of failCommand for `command` from a client named
  // `app_name` (hello's client.application.name), if it applies.
  std::optional<FailCommandAction> CheckFailCommand(std::string_view command, std::string_view app_name);
  std::optional<TransactionalWriteAction> CheckTransactionalWrite();
  // Consumes one activation of failGetMoreAfterCursorCheckout: its code.
  std::optional<ErrorCode> CheckGetMoreAfterCheckout();

 private:
  struct Mode {
    enum class Kind { kOff, kAlwaysOn, kTimes, kSkip, kProbability } kind = Kind::kOff;
    int64_t count = 0;         // kTimes: activations left; kSkip: matches still to let pass
    double probability = 0.0;  // kProbability
  };
  // Whether a point in `mode` fires now; consumes an activation.
  bool Fire(Mode* mode);

  std::mutex mutex_;
  std::minstd_rand random_{std::random_device{}()};  // GUARDED_BY(mutex_)
  Mode fail_command_mode_;                           // GUARDED_BY(mutex_)
  std::vector<std::string> fail_commands_;           // GUARDED_BY(mutex_)
  std::string fail_app_name_;                        // GUARDED_BY(mutex_); empty: any client
  FailCommandAction fail_action_;                    // GUARDED_BY(mutex_)
  int64_t fail_command_fired_ = 0;                   // GUARDED_BY(mutex_)
  Mode transactional_write_mode_;                    // GUARDED_BY(mutex_)
  TransactionalWriteAction transactional_write_action_;  // GUARDED_BY(mutex_)
  int64_t transactional_write_fired_ = 0;            // GUARDED_BY(mutex_)
  Mode get_more_mode_;                               // GUARDED_BY(mutex_)
  ErrorCode get_more_error_ = ErrorCode::kInternalError;  // GUARDED_BY(mutex_)
  int64_t get_more_fired_ = 0;                       // GUARDED_BY(mutex_)
};

}  // namespace docket::commands
