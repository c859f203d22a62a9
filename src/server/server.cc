#include "server/server.h"

#include <asio.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "bson/builder.h"
#include "commands/command.h"
#include "wire/bytes.h"
#include "wire/compression.h"
#include "wire/message.h"

namespace docket::server {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

class ServerImpl {
 public:
  ServerImpl(Engine* engine, const ServerOptions& options)
      : options(options), workers(static_cast<size_t>(std::max(1, options.worker_threads))) {
    state.engine = engine;
    state.argv = options.argv;
    state.parsed_options = options.parsed_options;
    state.max_connections = options.max_connections;
  }

  const ServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer reaper{io};
  asio::thread_pool workers;
  commands::ServerState state;
  std::vector<std::thread> io_threads;
  std::atomic<int64_t> next_connection_id{0};
  std::atomic<int32_t> next_request_id{1};
  std::atomic<bool> stopping{false};
  uint16_t port = 0;  // set once in Start, before any thread runs

  std::mutex sockets_mutex;
  std::map<int64_t, std::shared_ptr<tcp::socket>> sockets;  // GUARDED_BY(sockets_mutex)

  std::mutex stop_mutex;
  std::condition_variable stopped_cv;
  bool stopped = false;  // GUARDED_BY(stop_mutex)

  void Log(const std::string& message) const;
  awaitable<void> AcceptLoop();
  awaitable<void> ReapCursors();
  awaitable<void> Serve(std::shared_ptr<tcp::socket> socket, int64_t id);
  // Runs `work` on the worker pool and resumes the awaiting coroutine on
  // `io_executor` (its own) with the result. Deliberately not a coroutine
  // itself: GCC 12 double-destroys a by-value std::function parameter of a
  // coroutine when it is moved into the initiation.
  awaitable<std::string> OnWorkers(const asio::any_io_executor& io_executor, std::function<std::string()> work);
  // Decodes one whole message and runs its command. Returns the reply bytes,
  // or "" when none is due (moreToCome). Sets *close for unrecoverable input.
  std::string Process(commands::ConnectionInfo& connection, const std::vector<uint8_t>& message,
                      const wire::Header& header, bool* close);
  // Process for an uncompressed message; sets *command to the command's name.
  std::string ProcessPlain(commands::ConnectionInfo& connection, const std::vector<uint8_t>& message,
                           const wire::Header& header, bool* close, std::string* command);
  void Stop();
};

void ServerImpl::Log(const std::string& message) const {
  if (options.quiet) return;
  if (options.log_json) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    bson::Builder entry;
    BSON_APPEND_DATE_TIME(entry.get(), "t", now);
    BSON_APPEND_UTF8(entry.get(), "msg", message.c_str());
    std::fprintf(stderr, "%s\n", entry.Finish().ToJson().c_str());
  } else {
    std::fprintf(stderr, "docket: %s\n", message.c_str());
  }
}

awaitable<std::string> ServerImpl::OnWorkers(const asio::any_io_executor& io_executor,
                                             std::function<std::string()> work) {
  return asio::async_initiate<decltype(use_awaitable), void(std::string)>(
      [this, io_executor, work = std::move(work)](auto handler) mutable {
        asio::post(workers, [handler = std::move(handler), work = std::move(work), io_executor]() mutable {
          std::string result = work();
          asio::post(io_executor, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      use_awaitable);
}

std::string ServerImpl::Process(commands::ConnectionInfo& connection, const std::vector<uint8_t>& message,
                                const wire::Header& header, bool* close) {
  std::string command;
  if (header.op_code != wire::kOpCompressed) return ProcessPlain(connection, message, header, close, &command);
  wire::Compressor compressor = wire::Compressor::kNoop;
  auto inner = wire::DecompressMessage(message.data(), message.size(), &compressor);
  if (!inner.ok()) {
    *close = true;
    return wire::BuildOpMsg(next_request_id.fetch_add(1), header.request_id, commands::ErrorReply(inner.status()),
                            false);
  }
  state.compressed_messages_in[static_cast<int>(compressor)].fetch_add(1);
  wire::Header inner_header = header;
  inner_header.length = static_cast<int32_t>(inner->size());
  inner_header.op_code = wire::ReadInt32(inner->data() + 12);
  std::string reply = ProcessPlain(connection, *inner, inner_header, close, &command);
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

std::string ServerImpl::ProcessPlain(commands::ConnectionInfo& connection, const std::vector<uint8_t>& message,
                                     const wire::Header& header, bool* close, std::string* command) {
  commands::CommandContext context{state, connection};
  const int32_t reply_id = next_request_id.fetch_add(1);
  try {
    if (header.op_code == wire::kOpMsg) {
      auto msg = wire::ParseOpMsg(message.data(), message.size());
      if (!msg.ok()) {
        *close = true;
        return wire::BuildOpMsg(reply_id, header.request_id, commands::ErrorReply(msg.status()), false);
      }
      bson_iter_t db_it;
      std::string db;
      if (msg->body.Find("$db", &db_it) && BSON_ITER_HOLDS_UTF8(&db_it)) db = bson_iter_utf8(&db_it, nullptr);
      *command = commands::CommandName(msg->body);
      commands::CommandRequest request{db, &msg->body, &msg->sequences, false};
      Document reply = commands::RunCommand(context, request);
      if (msg->more_to_come()) return std::string();
      return wire::BuildOpMsg(reply_id, header.request_id, reply, msg->checksum_present());
    }
    if (header.op_code == wire::kOpQuery) {
      auto query = wire::ParseOpQuery(message.data(), message.size());
      if (!query.ok()) {
        *close = true;
        return wire::BuildOpReply(reply_id, header.request_id, commands::ErrorReply(query.status()));
      }
      const std::string& ns = query->full_collection_name;
      const std::string suffix = ".$cmd";
      if (ns.size() <= suffix.size() || ns.compare(ns.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return wire::BuildOpReply(reply_id, header.request_id,
                                  commands::ErrorReply(Status(ErrorCode::kCommandNotSupported,
                                                              "OP_QUERY is supported only for commands (*.$cmd)")));
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
      commands::CommandRequest request{ns.substr(0, ns.size() - suffix.size()), &body, nullptr, true};
      return wire::BuildOpReply(reply_id, header.request_id, commands::RunCommand(context, request));
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

awaitable<void> ServerImpl::Serve(std::shared_ptr<tcp::socket> socket, int64_t id) {
  commands::ConnectionInfo connection;
  connection.id = id;
  asio::error_code ec;
  auto remote = socket->remote_endpoint(ec);
  connection.remote = ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
  Log("connection " + std::to_string(id) + " accepted from " + connection.remote);
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(id));
  const bool jitter = options.jitter_max.count() > 0;
  std::uniform_int_distribution<int64_t> jitter_micros(options.jitter_min.count() * 1000,
                                                       options.jitter_max.count() * 1000);
  asio::steady_timer timer(io);
  const asio::any_io_executor io_executor = co_await asio::this_coro::executor;
  std::vector<uint8_t> message;
  while (!stopping.load()) {
    uint8_t header_bytes[wire::kHeaderSize];
    // Between messages a client may stay silent for idle_timeout at most.
    timer.expires_after(options.idle_timeout);
    timer.async_wait([socket](const asio::error_code& e) {
      if (!e) {
        asio::error_code ignored;
        socket->close(ignored);
      }
    });
    co_await asio::async_read(*socket, asio::buffer(header_bytes), asio::redirect_error(use_awaitable, ec));
    timer.cancel();
    if (ec) break;
    auto header = wire::ParseHeader(header_bytes);
    if (!header.ok()) {
      Log("connection " + std::to_string(id) + ": " + header.status().message() + "; closing");
      break;
    }
    message.resize(static_cast<size_t>(header->length));
    std::memcpy(message.data(), header_bytes, wire::kHeaderSize);
    // The rest of the message must arrive within message_timeout.
    timer.expires_after(options.message_timeout);
    timer.async_wait([socket](const asio::error_code& e) {
      if (!e) {
        asio::error_code ignored;
        socket->close(ignored);
      }
    });
    co_await asio::async_read(*socket, asio::buffer(message.data() + wire::kHeaderSize, message.size() - wire::kHeaderSize),
                              asio::redirect_error(use_awaitable, ec));
    timer.cancel();
    if (ec) break;
    if (jitter) {
      timer.expires_after(std::chrono::microseconds(jitter_micros(rng)));
      co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    bool close = false;
    const wire::Header h = *header;
    std::string reply = co_await OnWorkers(io_executor, [&] { return Process(connection, message, h, &close); });
    if (!reply.empty()) {
      co_await asio::async_write(*socket, asio::buffer(reply), asio::redirect_error(use_awaitable, ec));
      if (ec) break;
    }
    if (close) break;
  }
  state.cursors.KillConnection(id);
  {
    std::lock_guard lock(sockets_mutex);
    sockets.erase(id);
  }
  socket->close(ec);
  state.connections_current.fetch_sub(1);
  Log("connection " + std::to_string(id) + " ended");
}

awaitable<void> ServerImpl::AcceptLoop() {
  while (!stopping.load()) {
    asio::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopping.load() || ec == asio::error::operation_aborted) co_return;
      // Out of descriptors or similar: back off briefly instead of spinning.
      asio::steady_timer pause(io, std::chrono::milliseconds(10));
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
    auto shared = std::make_shared<tcp::socket>(std::move(socket));
    {
      std::lock_guard lock(sockets_mutex);
      sockets.emplace(id, shared);
    }
    state.connections_current.fetch_add(1);
    state.connections_total.fetch_add(1);
    asio::co_spawn(io, Serve(shared, id), asio::detached);
  }
}

awaitable<void> ServerImpl::ReapCursors() {
  asio::error_code ec;
  while (!stopping.load()) {
    reaper.expires_after(std::chrono::seconds(30));
    co_await reaper.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    state.cursors.ReapIdle(options.cursor_idle_timeout);
  }
}

void ServerImpl::Stop() {
  bool expected = false;
  if (!stopping.compare_exchange_strong(expected, true)) return;
  asio::post(io, [this] {
    asio::error_code ignored;
    acceptor.close(ignored);
    reaper.cancel();
    std::lock_guard lock(sockets_mutex);
    for (auto& [id, socket] : sockets) {
      socket->shutdown(tcp::socket::shutdown_both, ignored);
      socket->close(ignored);
    }
  });
  // Each connection finishes its in-flight command, fails to write the reply
  // to its closed socket and ends; then the io_context has no work left.
  for (std::thread& t : io_threads) t.join();
  workers.join();
  std::lock_guard lock(stop_mutex);
  stopped = true;
  stopped_cv.notify_all();
}

Result<std::unique_ptr<Server>> Server::Start(Engine* engine, const ServerOptions& options) {
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
  asio::co_spawn(impl->io, impl->AcceptLoop(), asio::detached);
  asio::co_spawn(impl->io, impl->ReapCursors(), asio::detached);
  ServerImpl* raw = impl.get();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    impl->io_threads.emplace_back([raw] { raw->io.run(); });
  }
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
