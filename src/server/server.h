// `docket serve`: accepts MongoDB wire-protocol connections and answers them
// from one Engine.
//
// Threads: one io_context, run by a Pool (src/server/pool.h) of `threads`
// threads that grows to `max_threads` while commands keep its threads from
// polling. Each connection is a coroutine on its own strand: it reads a
// message, runs the command on the pool thread that received it (no hand-off
// to another thread: no extra wake-up or context switch per command), and
// writes the reply, so a slow command stalls only its own connection. Each
// connection handles one message at a time, in order, as MongoDB does.
// Deadlines (idle, half-sent messages, unread replies) are enforced by a
// sweeper once a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "docket/document.h"
#include "docket/engine.h"
#include "docket/status.h"

namespace docket::server {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 27017;  // 0: the kernel picks a free port; see Server::port()
  int64_t max_connections = 10000;
  int threads = 2;        // the pool's base size: polls sockets and runs commands
  int max_threads = 128;  // while commands block, the pool grows up to this
  // Race amplification: every command first waits a random time in
  // [jitter_min, jitter_max], drawn from a generator seeded with `seed` (and
  // the connection number). Zero/zero: off.
  std::chrono::milliseconds jitter_min{0};
  std::chrono::milliseconds jitter_max{0};
  uint64_t seed = 0;
  std::chrono::minutes cursor_idle_timeout{10};
  // A message whose header arrived must be complete within this time, or the
  // connection is closed (half-open and stalled clients).
  std::chrono::seconds message_timeout{30};
  // A connection silent for this long between messages is closed (drivers
  // reconnect transparently; their monitors talk every few seconds).
  std::chrono::seconds idle_timeout{30 * 60};
  // What all connections together may hold for messages being received and
  // decompressed (server/incoming_budget.h). At least two largest messages.
  size_t max_incoming_bytes = size_t{512} << 20;
  // Non-empty: answer hello as the primary of a one-member replica set of
  // this name, so that drivers run transactions and retryable writes.
  std::string replica_set;
  // A transaction still open after this long is aborted (its locks freed).
  std::chrono::seconds transaction_lifetime{60};
  // How long a write may stay parked (a busy document) before it runs
  // without parking: set above the transaction lifetime, as the engine's
  // write wait is.
  std::chrono::seconds park_limit{75};
  bool test_commands = false;  // registers `sleep` (tests only, as MongoDB's enableTestCommands)
  bool log_json = false;
  bool quiet = false;
  std::vector<std::string> argv;  // reported by getCmdLineOpts
  Document parsed_options;        // reported by getCmdLineOpts
  // Lines of mongod's JSON log format, returned by getLog "startupWarnings".
  std::vector<std::string> startup_warnings;
  // Asks the program that runs the server to shut down cleanly (the
  // `shutdown` command); empty: the command is refused (an in-process server).
  std::function<void()> request_shutdown;
  std::function<Status()> rotate_log;  // the logRotate command's; empty: refused
};

class ServerImpl;

// Thread-safe: Stop() may be called from any thread (a signal handler thread).
class Server {
 public:
  // Binds and starts the threads; returns once connections are accepted.
  // Errors: InternalError when the address cannot be bound.
  static Result<std::unique_ptr<Server>> Start(Engine* engine, const ServerOptions& options);
  ~Server();

  uint16_t port() const;
  // Stops accepting, closes every connection once its in-flight command has
  // finished, waits for the threads. Idempotent.
  void Stop();
  // Blocks until Stop() has completed.
  void Wait();

 private:
  explicit Server(std::unique_ptr<ServerImpl> impl);
  std::unique_ptr<ServerImpl> impl_;
};

}  // namespace docket::server
