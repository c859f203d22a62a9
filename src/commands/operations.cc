#include "commands/operations.h"

#include <algorithm>


#include "bson/builder.h"
#include "commands/ram_log.h"

namespace docket::commands {
namespace {

// currentOp's `op` for a command, as mongod names them.
std::string OpType(const std::string& name) {
  if (name == "find") return "query";
  if (name == "getMore") return "getmore";
  if (name == "insert") return "insert";
  if (name == "update") return "update";
  if (name == "delete") return "remove";
  return "command";
}

// The collection a command names first ({find: "c"}), if it names one.
std::string Namespace(const Document& command, const std::string& name, const std::string& db) {
  bson_iter_t it;
  if (name != "getMore" && command.Find(name.c_str(), &it) && BSON_ITER_HOLDS_UTF8(&it)) {
    return db + "." + bson_iter_utf8(&it, nullptr);
  }
  if (name == "getMore" && command.Find("collection", &it) && BSON_ITER_HOLDS_UTF8(&it)) {
    return db + "." + bson_iter_utf8(&it, nullptr);
  }
  return db + ".$cmd";
}

}  // namespace

OperationRegistry::Running::~Running() { registry_->Finish(op_->opid); }

std::unique_ptr<OperationRegistry::Running> OperationRegistry::Start(const Document& command, const std::string& name,
                                                                     const std::string& db, const Client& client) {
  auto op = std::make_shared<Operation>();
  op->started = std::chrono::steady_clock::now();
  op->started_wall = std::chrono::system_clock::now();
  op->op = OpType(name);
  op->ns = Namespace(command, name, db);
  op->command = command;
  op->connection_id = client.connection_id;
  op->client = client.address;
  op->app_name = client.app_name;
  bson_iter_t lsid, id;
  if (command.Find("lsid", &lsid) && BSON_ITER_HOLDS_DOCUMENT(&lsid) && bson_iter_recurse(&lsid, &id) &&
      bson_iter_find(&id, "id") && BSON_ITER_HOLDS_BINARY(&id)) {
    bson_subtype_t subtype;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_binary(&id, &subtype, &len, &data);
    op->lsid.assign(reinterpret_cast<const char*>(data), len);
  }
  {
    std::lock_guard lock(mutex_);
    op->opid = next_opid_++;
    running_[op->opid] = op;
  }
  return std::make_unique<Running>(this, std::move(op));
}

void OperationRegistry::Finish(int64_t opid) {
  std::lock_guard lock(mutex_);
  running_.erase(opid);
}

bool OperationRegistry::Kill(int64_t opid) {
  std::lock_guard lock(mutex_);
  auto it = running_.find(opid);
  if (it == running_.end()) return false;
  it->second->killed.store(true, std::memory_order_relaxed);
  return true;
}

std::vector<Document> OperationRegistry::Describe() const {
  std::vector<std::shared_ptr<Operation>> ops;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, op] : running_) ops.push_back(op);
  }
  const auto now = std::chrono::steady_clock::now();
  std::vector<Document> out;
  out.reserve(ops.size());
  for (const auto& op : ops) {
    bson::Builder doc;
    const auto running = now - op->started;
    BSON_APPEND_UTF8(doc.get(), "type", "op");
    BSON_APPEND_UTF8(doc.get(), "desc", ("conn" + std::to_string(op->connection_id)).c_str());
    BSON_APPEND_INT64(doc.get(), "connectionId", op->connection_id);
    BSON_APPEND_UTF8(doc.get(), "client", op->client.c_str());
    if (!op->app_name.empty()) BSON_APPEND_UTF8(doc.get(), "appName", op->app_name.c_str());
    BSON_APPEND_BOOL(doc.get(), "active", true);
    BSON_APPEND_UTF8(doc.get(), "currentOpTime", MongodTimestamp().c_str());
    BSON_APPEND_INT64(doc.get(), "opid", op->opid);
    if (!op->lsid.empty()) {
      bson_t lsid;
      BSON_APPEND_DOCUMENT_BEGIN(doc.get(), "lsid", &lsid);
      BSON_APPEND_BINARY(&lsid, "id", BSON_SUBTYPE_UUID, reinterpret_cast<const uint8_t*>(op->lsid.data()),
                         static_cast<uint32_t>(op->lsid.size()));
      bson_append_document_end(doc.get(), &lsid);
    }
    BSON_APPEND_INT64(doc.get(), "secs_running", std::chrono::duration_cast<std::chrono::seconds>(running).count());
    BSON_APPEND_INT64(doc.get(), "microsecs_running",
                      std::chrono::duration_cast<std::chrono::microseconds>(running).count());
    BSON_APPEND_UTF8(doc.get(), "op", op->op.c_str());
    BSON_APPEND_UTF8(doc.get(), "ns", op->ns.c_str());
    bson_t command;
    if (bson_init_static(&command, op->command.data(), op->command.size())) {
      BSON_APPEND_DOCUMENT(doc.get(), "command", &command);
    }
    const int64_t total = op->progress.total.load(std::memory_order_relaxed);
    if (total >= 0) {  // mongod's index build: "Index Build: scanning collection Index Build: ... 12/100 12%"
      const int64_t done = op->progress.done.load(std::memory_order_relaxed);
      const int64_t percent = total > 0 ? std::min<int64_t>(100, done * 100 / total) : 100;
      const std::string msg = "Index Build: scanning collection Index Build: scanning collection: " +
                              std::to_string(done) + "/" + std::to_string(total) + " " + std::to_string(percent) + "%";
      BSON_APPEND_UTF8(doc.get(), "msg", msg.c_str());
      bson_t progress;
      BSON_APPEND_DOCUMENT_BEGIN(doc.get(), "progress", &progress);
      BSON_APPEND_INT64(&progress, "done", done);
      BSON_APPEND_INT64(&progress, "total", total);
      bson_append_document_end(doc.get(), &progress);
    }
    BSON_APPEND_INT32(doc.get(), "numYields", 0);
    BSON_APPEND_BOOL(doc.get(), "killPending", op->killed.load(std::memory_order_relaxed));
    BSON_APPEND_BOOL(doc.get(), "waitingForLock", false);
    out.push_back(doc.Finish());
  }
  return out;
}

}  // namespace docket::commands
