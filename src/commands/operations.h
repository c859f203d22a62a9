// The commands running now, for currentOp and killOp.
//
// RunCommand registers every command while it runs (Running, RAII) with
// what currentOp shows of it, and runs it under an InterruptScope
// (docket/deadline.h) on the operation's flag, so that killOp from any
// connection stops its engine work at the next document a scan examines:
// the command then fails with Interrupted (11601). Operation ids are
// positive, increasing, and never reused while the server runs.
//
// Thread-safe: the map takes mutex_; an operation's flag is atomic, and its
// other fields do not change after Start.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "docket/document.h"
#include "docket/progress.h"

namespace docket::commands {

class OperationRegistry {
 public:
  struct Operation {
    int64_t opid = 0;
    std::atomic<bool> killed{false};
    std::chrono::steady_clock::time_point started;
    std::chrono::system_clock::time_point started_wall;
    std::string op;    // currentOp's `op`: query, getmore, insert, update, remove, command
    std::string ns;    // "db.collection", or "db.$cmd"
    Document command;  // the command as received
    int64_t connection_id = 0;
    std::string client;    // "127.0.0.1:54321"
    std::string app_name;  // hello's client.application.name
    std::string lsid;      // the session id bytes (empty: none)
    // What the engine reports of a long operation (an index build's scan):
    // currentOp's `msg` and `progress` (docket/progress.h).
    OperationProgress progress;
  };

  // Unregisters its operation when destroyed.
  class Running {
   public:
    Running(OperationRegistry* registry, std::shared_ptr<Operation> op) : registry_(registry), op_(std::move(op)) {}
    ~Running();
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    const std::atomic<bool>* killed() const { return &op_->killed; }
    OperationProgress* progress() const { return &op_->progress; }

   private:
    OperationRegistry* registry_;
    std::shared_ptr<Operation> op_;
  };

  // Who runs a command, as currentOp shows it.
  struct Client {
    int64_t connection_id = 0;
    std::string address;   // "127.0.0.1:54321"
    std::string app_name;  // hello's client.application.name
  };

  // Registers `command` (named `name`, run on `db`) starting now; its lsid
  // comes from the command.
  std::unique_ptr<Running> Start(const Document& command, const std::string& name, const std::string& db,
                                 const Client& client);

  // One currentOp document per running operation, in opid order.
  std::vector<Document> Describe() const;
  // killOp: marks the operation killed; false if no such operation runs.
  bool Kill(int64_t opid);

 private:
  void Finish(int64_t opid);

  mutable std::mutex mutex_;
  int64_t next_opid_ = 1;                                  // GUARDED_BY(mutex_)
  std::map<int64_t, std::shared_ptr<Operation>> running_;  // GUARDED_BY(mutex_)
};

}  // namespace docket::commands
