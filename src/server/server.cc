#include "server/server.h"

#include "server/process_log.h"

#include <asio.hpp>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "bson/builder.h"
#include "commands/command.h"
#include "server/incoming_budget.h"
#include "server/pool.h"
#include "wire/bytes.h"
#include "wire/compression.h"
#include "wire/message.h"

namespace docket::server {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

// One connection: its socket, the strand that serialises everything done to
// it, and the deadline the sweeper enforces. The coroutine (Serve) and the
// sweeper's and Stop's closes all run on `strand`, so the socket is never
// touched by two threads at once.
struct Connection {
  Connection(tcp::socket s, int64_t connection_id)
      : strand(asio::make_strand(s.get_executor())), socket(std::move(s)), id(connection_id) {}

  const asio::strand<asio::any_io_executor> strand;
  tcp::socket socket;  // only on `strand`
  const int64_t id;
  // Steady-clock nanoseconds after which the sweeper closes the connection;
  // kNoDeadline while a command runs. Written by the coroutine, read by the
  // sweeper.
  std::atomic<int64_t> deadline{kNoDeadline};
  static constexpr int64_t kNoDeadline = INT64_MAX;

  void SetDeadline(std::chrono::steady_clock::duration from_now) {
    deadline.store((std::chrono::steady_clock::now() + from_now).time_since_epoch().count(),
                   std::memory_order_relaxed);
  }
  void ClearDeadline() { deadline.store(kNoDeadline, std::memory_order_relaxed); }
  // Closes the socket on the strand: the coroutine's pending read or write
  // fails and it ends.
  static void CloseOnStrand(const std::shared_ptr<Connection>& c) {
    asio::post(c->strand, [c] {
      asio::error_code ignored;
      c->socket.shutdown(tcp::socket::shutdown_both, ignored);
      c->socket.close(ignored);
      if (c->park_timer) c->park_timer->cancel();
    });
  }
  // While the connection's command is parked (ServerImpl::ParkUntilWorthRetrying):
  // the timer it waits on. Only on `strand`.
  std::shared_ptr<asio::steady_timer> park_timer;
};

class ServerImpl {
 public:
  ServerImpl(Engine* engine, const ServerOptions& options) : options(options) {
    state.engine = engine;
    state.argv = options.argv;
    state.parsed_options = options.parsed_options;
    state.startup_warnings = options.startup_warnings;
    state.request_shutdown = options.request_shutdown;
    state.rotate_log = options.rotate_log;
    for (const std::string& line : options.startup_warnings) state.global_log.Add(line);
    state.max_connections = options.max_connections;
    state.test_commands = options.test_commands;
    state.replica_set = options.replica_set;
    state.transaction_lifetime_seconds = options.transaction_lifetime.count();
    state.park_limit_seconds = options.park_limit.count();
    // The engine's events: a write that fails a validator whose action is
    // "warn" (mongod: 20294), index builds (20384, 51773, 20391, 20663, 20649).
    engine->SetLogSink([this](const LogEvent& event) {
      LogStructured(event.severity, event.component, event.id, event.context, event.message, event.attr_json);
    });
  }
  ~ServerImpl() { state.engine->SetLogSink(nullptr); }  // the engine may outlive the server

  const ServerOptions options;
  asio::io_context io;
  // The acceptor and the housekeeping timers are used only on this strand.
  asio::strand<asio::io_context::executor_type> control = asio::make_strand(io);
  tcp::acceptor acceptor{io};
  asio::steady_timer reaper{io};
  asio::steady_timer sweeper{io};
  commands::ServerState state;

  // Polls the sockets and runs the commands (src/server/pool.h).
  Pool pool{io, options.threads, options.max_threads};
  IncomingBudget incoming{std::max(options.max_incoming_bytes, 2 * static_cast<size_t>(wire::kMaxMessageSize))};
  std::atomic<int64_t> next_connection_id{0};
  std::atomic<int32_t> next_request_id{1};
  std::atomic<bool> stopping{false};
  uint16_t port = 0;  // set once in Start, before any thread runs

  std::mutex connections_mutex;
  std::map<int64_t, std::shared_ptr<Connection>> connections;  // GUARDED_BY(connections_mutex)

  std::mutex stop_mutex;
  std::condition_variable stopped_cv;
  bool stopped = false;  // GUARDED_BY(stop_mutex)

  void Log(const std::string& message) const;
  // One line of mongod's structured log: kept for getLog, and on standard
  // error (unless --quiet keeps it off: only errors then) in the
  // --log-format's shape.
  void LogStructured(char severity, const std::string& component, int64_t id, const std::string& context,
                     const std::string& message, const std::string& attr_json) const;
  awaitable<void> AcceptLoop();
  awaitable<void> ReapCursors();
  // Closes connections past their deadline (idle between messages, or a
  // message that stopped arriving, or a reply nobody reads), once a second.
  awaitable<void> SweepDeadlines();
  // One connection's loop, on its strand.
  awaitable<void> Serve(std::shared_ptr<Connection> connection);
  // Suspends the connection until `park` (a kWouldBlock) is worth retrying:
  // woken by the engine when the document is released, or after *backoff
  // (doubling, at most 50 ms) when nothing will announce it; also when the
  // server stops. Holds no thread meanwhile.
  awaitable<void> ParkUntilWorthRetrying(std::shared_ptr<Connection> self, const Status& park,
                                        std::chrono::milliseconds* backoff);
  // Decodes one whole message and runs its command. Returns the reply bytes,
  // or "" when none is due (moreToCome). Sets *close for unrecoverable input.
  std::string Process(commands::ConnectionInfo& connection, const uint8_t* message, size_t size,
                      const wire::Header& header, bool* close);
  // Process for an uncompressed message; sets *command to the command's name.
  std::string ProcessPlain(commands::ConnectionInfo& connection, const uint8_t* message, size_t size,
                           const wire::Header& header, bool* close, std::string* command);
  void Stop();
};

namespace {

constexpr const char* kLegacyUpgrade =
    "The client driver may require an upgrade. For more details see "
    "https://dochub.mongodb.org/core/legacy-opcode-removal";

// The answer MongoDB 6.0 gives a legacy read (OP_QUERY on a collection,
// OP_GET_MORE): an OP_REPLY with the QueryFailure flag.
std::string LegacyFailure(int32_t reply_id, int32_t response_to, const std::string& op) {
  bson::Builder error;
  const std::string message = op + " is no longer supported. " + kLegacyUpgrade;
  BSON_APPEND_UTF8(error.get(), "$err", message.c_str());
  BSON_APPEND_INT32(error.get(), "code", 5739101);
  BSON_APPEND_DOUBLE(error.get(), "ok", 0.0);
  return wire::BuildOpReply(reply_id, response_to, error.Finish(), wire::kReplyQueryFailure);
}

}  // namespace

void ServerImpl::LogStructured(char severity, const std::string& component, int64_t id, const std::string& context,
                               const std::string& message, const std::string& attr_json) const {
  // Kept for getLog "global" even when --quiet keeps it off the log.
  state.global_log.Add(commands::MongodLogLine(severity, component, id, context, message, {}, attr_json));
  WriteLog({options.log_json, options.quiet}, severity, component, id, context, message, attr_json);
}

void ServerImpl::Log(const std::string& message) const { LogStructured('I', "NETWORK", 0, "conn", message, ""); }

std::string ServerImpl::Process(commands::ConnectionInfo& connection, const uint8_t* message, size_t size,
                                const wire::Header& header, bool* close) {
  std::string command;
  if (header.op_code != wire::kOpCompressed) return ProcessPlain(connection, message, size, header, close, &command);
  wire::Compressor compressor = wire::Compressor::kNoop;
  auto inner = wire::DecompressMessage(message, size, &compressor);
  if (!inner.ok()) {
    *close = true;
    return wire::BuildOpMsg(next_request_id.fetch_add(1), header.request_id, commands::ErrorReply(inner.status()),
                            false);
  }
  state.compressed_messages_in[static_cast<int>(compressor)].fetch_add(1);
  wire::Header inner_header = header;
  inner_header.length = static_cast<int32_t>(inner->size());
  inner_header.op_code = wire::ReadInt32(inner->data() + 12);
  std::string reply = ProcessPlain(connection, inner->data(), inner->size(), inner_header, close, &command);
  // As the compression spec asks: the handshake and authentication are never
  // compressed; everything else is answered with the request's compressor.
  static const char* const kNeverCompressed[] = {"hello", "isMaster", "ismaster", "saslStart", "saslContinue",
                                                 "getnonce", "authenticate", "createUser", "updateUser"};
  if (reply.empty()) return reply;
  for (const char* name : kNeverCompressed) {
    if (command == name) return reply;
  }
  return wire::CompressMessage(reply, compressor);
}

std::string ServerImpl::ProcessPlain(commands::ConnectionInfo& connection, const uint8_t* message, size_t size,
                                     const wire::Header& header, bool* close, std::string* command) {
  commands::CommandContext context{state, connection};
  const int32_t reply_id = next_request_id.fetch_add(1);
  try {
    if (header.op_code == wire::kOpMsg) {
      auto msg = wire::ParseOpMsg(message, size);
      if (!msg.ok()) {
        *close = wire::IsConnectionFatal(msg.status());
        return wire::BuildOpMsg(reply_id, header.request_id, commands::ErrorReply(msg.status()), false);
      }
      bson_iter_t db_it;
      std::string db;
      if (msg->body.Find("$db", &db_it) && BSON_ITER_HOLDS_UTF8(&db_it)) {
        uint32_t db_len = 0;
        const char* db_name = bson_iter_utf8(&db_it, &db_len);
        db.assign(db_name, db_len);  // all of it: an embedded NUL must not cut it short
      }
      *command = commands::CommandName(msg->body);
      commands::CommandRequest request{db, &msg->body, &msg->sequences, false};
      request.may_park = connection.may_park;
      Document reply = commands::RunCommand(context, request);
      if (connection.parked) return std::string();  // run again when worth it
      if (connection.close_without_reply) {
        *close = true;
        return std::string();
      }
      if (msg->more_to_come()) return std::string();
      return wire::BuildOpMsg(reply_id, header.request_id, reply, msg->checksum_present());
    }
    if (header.op_code == wire::kOpQuery) {
      auto query = wire::ParseOpQuery(message, size);
      if (!query.ok()) {
        *close = true;
        return wire::BuildOpReply(reply_id, header.request_id, commands::ErrorReply(query.status()));
      }
      const std::string& ns = query->full_collection_name;
      const std::string suffix = ".$cmd";
      if (ns.size() <= suffix.size() || ns.compare(ns.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return LegacyFailure(reply_id, header.request_id, "OP_QUERY");
      }
      // Legacy clients may wrap the command: {$query: {...}, $readPreference: ...}.
      Document body = query->query;
      bson_iter_t wrapped;
      if (body.Find("$query", &wrapped) && BSON_ITER_HOLDS_DOCUMENT(&wrapped)) {
        uint32_t len = 0;
        const uint8_t* data = nullptr;
        bson_iter_document(&wrapped, &len, &data);
        body = Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len));
      }
      *command = commands::CommandName(body);
      // As MongoDB 5.1+: OP_QUERY carries only the handshake (and a few old
      // authentication commands Docket does not have).
      static const char* const kAllowed[] = {"hello",    "isMaster",  "ismaster",     "buildInfo", "buildinfo",
                                             "saslStart", "saslContinue", "authenticate", "_isSelf"};
      if (std::none_of(std::begin(kAllowed), std::end(kAllowed), [&](const char* c) { return *command == c; })) {
        return wire::BuildOpReply(
            reply_id, header.request_id,
            commands::ErrorReply(Status(static_cast<ErrorCode>(352),
                                        "Unsupported OP_QUERY command: " + *command + ". " + kLegacyUpgrade)));
      }
      commands::CommandRequest request{ns.substr(0, ns.size() - suffix.size()), &body, nullptr, true};
      Document reply = commands::RunCommand(context, request);
      if (connection.close_without_reply) {
        *close = true;
        return std::string();
      }
      return wire::BuildOpReply(reply_id, header.request_id, reply);
    }
    switch (header.op_code) {
      case wire::kOpGetMore:
        return LegacyFailure(reply_id, header.request_id, "OP_GET_MORE");
      case wire::kOpKillCursors:
      case wire::kOpInsert:
      case wire::kOpUpdate:
      case wire::kOpDelete:
        // Fire and forget: MongoDB sends nothing back either, and keeps the
        // connection.
        Log("connection " + std::to_string(connection.id) + ": legacy opcode " + std::to_string(header.op_code) +
            " is no longer supported; ignored");
        return std::string();
      default:
        break;
    }
    Log("connection " + std::to_string(connection.id) + ": unsupported opcode " + std::to_string(header.op_code) +
        "; closing");
    *close = true;
    return std::string();
  } catch (const std::exception& e) {
    *close = true;
    return wire::BuildOpMsg(reply_id, header.request_id,
                            commands::ErrorReply(Status(ErrorCode::kInternalError, e.what())), false);
  }
}

awaitable<void> ServerImpl::Serve(std::shared_ptr<Connection> self) {
  commands::ConnectionInfo connection;
  connection.id = self->id;
  asio::error_code ec;
  auto remote = self->socket.remote_endpoint(ec);
  connection.remote = ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
  Log("connection " + std::to_string(self->id) + " accepted from " + connection.remote);
  // While a command runs nobody reads this socket, so a peek that finds its
  // end (0) or an error other than "nothing yet" means the client left.
  connection.peer_gone = [fd = self->socket.native_handle()] {
    char byte = 0;
    const ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  };
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(self->id));
  const bool jitter = options.jitter_max.count() > 0;
  std::uniform_int_distribution<int64_t> jitter_micros(options.jitter_min.count() * 1000,
                                                       options.jitter_max.count() * 1000);
  asio::steady_timer jitter_timer(self->strand);
  // Bytes received and not yet processed: [0, have). Reads take whatever has
  // arrived, so a small message costs one receive and pipelined ones none
  // extra. Starts small (1,000 idle connections stay cheap); grows to the
  // largest message; shrinks back after one over kKeep.
  constexpr size_t kInitial = 1024, kKeep = 64 * 1024, kGrowth = 64 * 1024;
  std::vector<uint8_t> in(kInitial);
  size_t have = 0;
  // Bytes charged to the server's incoming budget: `in` beyond kInitial, and
  // while one is being handled, the decompressed size of an OP_COMPRESSED.
  size_t charged = 0;
  asio::steady_timer budget_timer(self->strand);
  auto charge = [&](size_t bytes) -> awaitable<bool> {
    while (!incoming.TryReserve(bytes)) {
      if (stopping.load() || !self->socket.is_open()) co_return false;
      budget_timer.expires_after(std::chrono::milliseconds(5));
      co_await budget_timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    charged += bytes;
    co_return true;
  };
  auto uncharge = [&](size_t bytes) {
    incoming.Release(bytes);
    charged -= bytes;
  };
  // Reads until `have` >= want. The buffer grows with what arrives (at most
  // kGrowth or what is held, whichever is more, ahead of it), never to a
  // length a header merely announces.
  auto receive_at_least = [&](size_t want) -> awaitable<bool> {
    while (have < want) {
      if (have == in.size()) {
        const size_t target = std::min(want, have + std::max(kGrowth, have));
        if (!co_await charge(target - in.size())) co_return false;
        in.resize(target);
      }
      size_t n = co_await self->socket.async_read_some(asio::buffer(in.data() + have, in.size() - have),
                                                       asio::redirect_error(use_awaitable, ec));
      if (ec) co_return false;
      have += n;
    }
    co_return true;
  };
  // Anything thrown (an allocation that fails) ends this connection only,
  // and still runs the clean-up below: its slot and its budget are freed.
  try {
    while (!stopping.load()) {
      // Between messages a client may stay silent for idle_timeout at most.
      if (have < wire::kHeaderSize) self->SetDeadline(options.idle_timeout);
      if (!co_await receive_at_least(wire::kHeaderSize)) break;
      auto header = wire::ParseHeader(in.data());
      if (!header.ok()) {
        Log("connection " + std::to_string(self->id) + ": " + header.status().message() + "; closing");
        break;
      }
      // An opcode no MongoDB client sends ends the connection now, before
      // waiting for the rest of a message that may never come: a TLS
      // ClientHello on this plain port reads as a header announcing ~33 MB
      // with such an opcode.
      if (!wire::IsKnownOpCode(header->op_code)) {
        const bool tls = in[0] == 0x16 && in[1] == 0x03;
        Log("connection " + std::to_string(self->id) + ": " +
            (tls ? std::string("a TLS handshake arrived, but this server does not speak TLS")
                 : "unknown opcode " + std::to_string(header->op_code)) +
            "; closing");
        break;
      }
      const size_t length = static_cast<size_t>(header->length);
      // The rest of the message must arrive within message_timeout.
      if (have < length) {
        self->SetDeadline(options.message_timeout);
        if (!co_await receive_at_least(length)) break;
      }
      // A compressed message is handled at its uncompressed size: charge it
      // before decompressing (the size is checked against the limit there).
      size_t decompressed = 0;
      if (header->op_code == wire::kOpCompressed && length >= wire::kHeaderSize + 8) {
        const int32_t announced = wire::ReadInt32(in.data() + wire::kHeaderSize + 4);
        if (announced > 0 && announced <= wire::kMaxMessageSize) {
          decompressed = static_cast<size_t>(announced) + wire::kHeaderSize;
          if (!co_await charge(decompressed)) break;
        }
      }
      self->ClearDeadline();
      if (jitter) {
        jitter_timer.expires_after(std::chrono::microseconds(jitter_micros(rng)));
        co_await jitter_timer.async_wait(asio::redirect_error(use_awaitable, ec));
      }
      // The command runs right here, on whichever pool thread runs this strand;
      // the other threads keep serving every other connection meanwhile, and
      // if it blocks the last free thread, the monitor adds one.
      bool close = false;
      std::string reply;
      // A single-document write whose document is busy parks instead of
      // holding this thread (commands::ConnectionInfo::parked): the message
      // is run again when the engine says it is worth it. After park_limit
      // it runs without parking (and waits, or fails as a blocked write does).
      const auto first_run = std::chrono::steady_clock::now();
      connection.message_arrived = first_run;
      std::optional<Status> woken_from;
      auto backoff = std::chrono::milliseconds(1);
      while (true) {
        connection.may_park =
            std::chrono::steady_clock::now() - first_run < std::chrono::seconds(state.park_limit_seconds.load());
        {
          Pool::BusyScope busy_scope(pool);
          reply = Process(connection, in.data(), length, *header, &close);
        }
        if (!connection.parked) {
          if (woken_from) state.engine->PassTurn(*woken_from);  // the next parked writer's turn
          break;
        }
        Status park = std::move(*connection.parked);
        connection.parked.reset();
        co_await ParkUntilWorthRetrying(self, park, &backoff);
        if (stopping.load() || !self->socket.is_open()) break;
        woken_from = std::move(park);
      }
      if (reply.empty() && connection.parked.has_value()) break;  // stopped while parked
      state.metrics.CountMessage(static_cast<int64_t>(length), static_cast<int64_t>(reply.size()));
      if (decompressed > 0) uncharge(decompressed);
      // What follows this message (a pipelined one) moves to the front.
      std::memmove(in.data(), in.data() + length, have - length);
      have -= length;
      if (in.size() > kKeep && have <= kInitial) {
        uncharge(in.size() - kInitial);
        in.resize(kInitial);
        in.shrink_to_fit();
      }
      if (!reply.empty()) {
        // A client that stops reading its replies is closed after message_timeout.
        self->SetDeadline(options.message_timeout);
        co_await asio::async_write(self->socket, asio::buffer(reply), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
      }
      if (close) break;
    }
  } catch (const std::exception& e) {
    Log("connection " + std::to_string(self->id) + ": " + e.what() + "; closing");
  }
  self->ClearDeadline();
  if (charged > 0) incoming.Release(charged);
  // The connection's cursors live on: they belong to their sessions, and a
  // driver continues them on another pooled connection.
  {
    std::lock_guard lock(connections_mutex);
    connections.erase(self->id);
  }
  self->socket.close(ec);
  state.connections_current.fetch_sub(1);
  Log("connection " + std::to_string(self->id) + " ended");
}

awaitable<void> ServerImpl::ParkUntilWorthRetrying(std::shared_ptr<Connection> self, const Status& park,
                                                    std::chrono::milliseconds* backoff) {
  auto timer = std::make_shared<asio::steady_timer>(self->strand);
  timer->expires_at(asio::steady_timer::time_point::max());
  self->park_timer = timer;
  // The wake-up comes from whichever thread releases the document; it only
  // posts to this connection's strand, where the timer lives. Posted, it runs
  // after this coroutine has suspended on the timer below.
  std::weak_ptr<Connection> weak = self;
  const bool announced = state.engine->WhenWorthRetrying(park, [weak, timer] {
    if (auto connection = weak.lock()) asio::post(connection->strand, [timer] { timer->cancel(); });
  });
  if (!announced) {
    timer->expires_after(*backoff);
    *backoff = std::min(*backoff * 2, std::chrono::milliseconds(50));
  }
  asio::error_code ec;
  co_await timer->async_wait(asio::redirect_error(use_awaitable, ec));
  self->park_timer.reset();
}

awaitable<void> ServerImpl::AcceptLoop() {
  while (!stopping.load()) {
    asio::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopping.load() || ec == asio::error::operation_aborted) co_return;
      // Out of descriptors or similar: back off briefly instead of spinning.
      asio::steady_timer pause(control, std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    if (state.connections_current.load() >= options.max_connections) {
      Log("refusing a connection: --max-connections " + std::to_string(options.max_connections) + " reached");
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    const int64_t id = next_connection_id.fetch_add(1) + 1;
    auto connection = std::make_shared<Connection>(std::move(socket), id);
    {
      std::lock_guard lock(connections_mutex);
      connections.emplace(id, connection);
    }
    state.connections_current.fetch_add(1);
    state.connections_total.fetch_add(1);
    asio::co_spawn(connection->strand, Serve(connection), asio::detached);
  }
}

awaitable<void> ServerImpl::ReapCursors() {
  asio::error_code ec;
  while (!stopping.load()) {
    reaper.expires_after(std::chrono::seconds(30));
    co_await reaper.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    state.cursors.ReapIdle(options.cursor_idle_timeout, commands::SessionRegistry::kSessionTimeout);
  }
}

awaitable<void> ServerImpl::SweepDeadlines() {
  asio::error_code ec;
  while (!stopping.load()) {
    sweeper.expires_after(std::chrono::seconds(1));
    co_await sweeper.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    // Transactions past their lifetime and sessions idle too long; the
    // cursors of the transactions ended go too.
    const std::chrono::seconds lifetime(state.transaction_lifetime_seconds.load());
    for (int64_t cursor : state.sessions.Reap(lifetime)) state.cursors.KillInternal(cursor);
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::lock_guard lock(connections_mutex);
    for (auto& [id, connection] : connections) {
      if (connection->deadline.load(std::memory_order_relaxed) < now) {
        connection->ClearDeadline();  // one close is enough
        Connection::CloseOnStrand(connection);
      }
    }
  }
}

void ServerImpl::Stop() {
  bool expected = false;
  if (!stopping.compare_exchange_strong(expected, true)) return;
  asio::post(control, [this] {
    asio::error_code ignored;
    acceptor.close(ignored);
    reaper.cancel();
    sweeper.cancel();
    std::lock_guard lock(connections_mutex);
    for (auto& [id, connection] : connections) Connection::CloseOnStrand(connection);
  });
  // A close waits on the connection's strand for its in-flight command (and
  // the reply's write, which is usually immediate); then the connection ends,
  // and once every one has, the io_context has no work left.
  pool.Join();
  std::lock_guard lock(stop_mutex);
  stopped = true;
  stopped_cv.notify_all();
}

Result<std::unique_ptr<Server>> Server::Start(Engine* engine, const ServerOptions& options) {
  // As mongod: the admin database holds the feature compatibility version
  // (so it exists, and listDatabases shows it).
  auto fcv_filter = Document::FromJson(R"({"_id": "featureCompatibilityVersion"})");
  auto fcv_update = Document::FromJson(R"({"$setOnInsert": {"version": "6.0"}})");
  UpdateOptions upsert;
  upsert.upsert = true;
  auto fcv = engine->collection("admin", "system.version").UpdateOne(*fcv_filter, *fcv_update, upsert);
  if (!fcv.ok()) return fcv.status();
  auto impl = std::make_unique<ServerImpl>(engine, options);
  asio::error_code ec;
  auto address = asio::ip::make_address(options.bind, ec);
  if (ec) return Status(ErrorCode::kInvalidOptions, "invalid --bind address '" + options.bind + "'");
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kInternalError,
                  "cannot listen on " + options.bind + ":" + std::to_string(options.port) + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->state.host = options.bind + ":" + std::to_string(impl->port);
  // What clients can dial: a wildcard bind is reached on the loopback address.
  const bool wildcard = options.bind == "0.0.0.0" || options.bind == "::";
  impl->state.advertised_host = (wildcard ? std::string("127.0.0.1") : options.bind) + ":" + std::to_string(impl->port);
  asio::co_spawn(impl->control, impl->AcceptLoop(), asio::detached);
  asio::co_spawn(impl->control, impl->ReapCursors(), asio::detached);
  asio::co_spawn(impl->control, impl->SweepDeadlines(), asio::detached);
  impl->pool.Start();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<ServerImpl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

uint16_t Server::port() const { return impl_->port; }

void Server::Stop() {
  impl_->Stop();
  Wait();
}

void Server::Wait() {
  std::unique_lock lock(impl_->stop_mutex);
  impl_->stopped_cv.wait(lock, [this] { return impl_->stopped; });
}

}  // namespace docket::server
