// The command layer: one MongoDB command document in, one reply document out.
// The wire server frames messages and calls RunCommand; each command family
// lives in its own file (crud.cc, admin.cc) and calls the engine's public API,
// exactly as an embedded program would.
#pragma once

#include <bson/bson.h>

#include <atomic>
#include <functional>
#include <chrono>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "commands/cluster_time.h"
#include "commands/cursor_registry.h"
#include "commands/fail_points.h"
#include "commands/fsync_lock.h"
#include "commands/operations.h"
#include "commands/profiler.h"
#include "commands/server_metrics.h"
#include "commands/ram_log.h"
#include "commands/sessions.h"
#include "docket/document.h"
#include "docket/engine.h"
#include "wire/message.h"

namespace docket::commands {

// Shared by every connection of one server. Thread-safe: the engine and the
// cursor registry are; the rest is set before the first connection.
// How much longer than a transaction's lifetime a write blocked by it waits
// (parked, then in the engine: EngineOptions::write_wait_seconds): the
// reaper aborts the transaction at its lifetime, then the write proceeds.
inline constexpr int kBlockedWriteMarginSeconds = 15;

struct ServerState {
  Engine* engine = nullptr;
  CursorRegistry cursors;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  std::vector<std::string> argv;     // for getCmdLineOpts
  Document parsed_options;           // for getCmdLineOpts
  // What the server warned of when it started, each a line of mongod's
  // JSON log format, for getLog: "startupWarnings" (mongosh shows them).
  std::vector<std::string> startup_warnings;
  std::function<void()> request_shutdown;  // the `shutdown` command's; empty: refused
  std::function<Status()> rotate_log;       // the `logRotate` command's; empty: refused
  std::string host;                  // "127.0.0.1:27017", for serverStatus
  std::atomic<int64_t> connections_current{0};
  std::atomic<int64_t> connections_total{0};
  int64_t max_connections = 0;
  bool test_commands = false;  // `sleep` and the like (--enable-test-commands)
  // --replica-set: the set's name (empty: a standalone server, which has no
  // transactions or retryable writes, as MongoDB's) and this member's
  // "host:port" for hello.
  std::string replica_set;
  std::string advertised_host;
  // The one-member set's configuration as launchers drive it: initiated by
  // the first replSetInitiate (the member is primary from the start either
  // way), its version raised by replSetReconfig (commands/replset.cc).
  std::atomic<bool> replset_initiated{false};
  std::atomic<int64_t> replset_config_version{1};
  SessionRegistry sessions;
  // --transaction-lifetime, then setParameter transactionLifetimeLimitSeconds;
  // park_limit_seconds (ServerOptions::park_limit) and the engine's write
  // wait follow it, kBlockedWriteMarginSeconds above (commands/server_parameters.cc).
  std::atomic<int64_t> transaction_lifetime_seconds{60};
  std::atomic<int64_t> park_limit_seconds{75};
  // OP_COMPRESSED messages received, by compressor id (0 noop .. 3 zstd).
  std::atomic<int64_t> compressed_messages_in[4] = {0, 0, 0, 0};
  FailPoints fail_points;  // armed by configureFailPoint (test commands only)
  // --replica-set only: the cluster time replies carry (cluster_time.h).
  ClusterClock& clock() const { return engine->cluster_clock(); }
  OperationRegistry operations;  // the commands running now (currentOp, killOp)
  FsyncLock fsync_lock;          // fsync with lock: true; fsyncUnlock
  Profiler profiler;             // the profile command's settings; system.profile's writer
  ServerMetrics metrics;         // serverStatus' counters of the work done
  // getLog "global": the server's recent log lines (mutable: logging is
  // not a change of the server's state; RamLog locks itself).
  mutable RamLog global_log;
};

// One connection's view, owned by its connection; used by one thread at a time.
struct ConnectionInfo {
  int64_t id = 0;
  std::string remote;    // "127.0.0.1:54321"
  std::string app_name;  // hello's client.application.name
  // Whether the client has closed its end (polled by commands that wait:
  // a tailable getMore's awaitData). Empty: never known.
  std::function<bool()> peer_gone;
  // Set by a command that must end the connection without a reply (a test
  // fail point's closeConnection): the server closes it instead of answering.
  bool close_without_reply = false;
  // Whether the server can run the message again (CommandRequest::may_park).
  bool may_park = false;
  // When the message being run first arrived: a parked command's maxTimeMS
  // counts from there, not from its latest run. None: from now.
  std::optional<std::chrono::steady_clock::time_point> message_arrived;
  // Set when the command parked (kWouldBlock, with its details): nothing
  // was done; the server runs the same message again when the engine says
  // it is worth it (Engine::WhenWorthRetrying).
  std::optional<Status> parked;
};

struct CommandRequest {
  std::string db;  // from $db (OP_MSG) or the OP_QUERY namespace
  const Document* body = nullptr;
  const std::vector<wire::DocumentSequence>* sequences = nullptr;  // may be null
  bool legacy = false;  // arrived as OP_QUERY (hello answers with `ismaster`)
  // The session's id bytes (lsid.id), set by RunWithSession; empty: none.
  // Cursors belong to it.
  std::string lsid;
  // The connection can run the command again later (it keeps the message):
  // a single-document write may park instead of holding a thread while its
  // document is busy (WriteOptions::may_park; ConnectionInfo::parked).
  bool may_park = false;
  // Set for a statement of a multi-document transaction (transactions.cc):
  // the engine transaction to run in, and where to note the ids of cursors
  // it opens (they die with the transaction).
  Transaction* txn = nullptr;
  std::vector<int64_t>* txn_cursors = nullptr;
};

struct CommandContext {
  ServerState& server;
  ConnectionInfo& connection;
  // What an armed failCommand fail point does to this command (null: none).
  const FailCommandAction* fail = nullptr;
  // The command's maxTimeMS as a deadline (none: no limit); the engine work
  // on this thread runs under it (docket/deadline.h), and a cursor the
  // command opens keeps what is left of it for its getMores.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Set by a getMore on a change stream's cursor: its errors may carry
  // ResumableChangeStreamError (error_labels.h).
  bool change_stream_get_more = false;
  // Non-null while an update or delete runs on a profiled database: each
  // statement is added here (commands/profiler.h).
  std::vector<ProfiledStatement>* statements = nullptr;
};

// Runs the command and returns its reply: {..., ok: 1}, or
// {ok: 0, errmsg, code, codeName} for any error. Never throws; any input is
// answered. Unknown commands answer CommandNotFound (59).
Document RunCommand(CommandContext& context, const CommandRequest& request);

// {ok: 0, errmsg, code, codeName}: the one shape every error reply has, plus
// the status's details (a DuplicateKey's keyPattern and keyValue).
Document ErrorReply(const Status& status);
// Appends the fields of status.details() to `out` (an error reply or a write error).
void AppendStatusDetails(bson_t* out, const Status& status);

// The command's name: the first field of the body ("" if the body is empty).
std::string CommandName(const Document& body);

// Whether the command asked for an unacknowledged write (writeConcern w:0).
bool IsUnacknowledged(const Document& body);

}  // namespace docket::commands
