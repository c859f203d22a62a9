#include "tools/docket/transfer/import_writer.h"

#include <cstdio>
#include <memory>

namespace docket::transfer {
namespace {

// mongoimport's batch: 1000 documents; and a bound on memory.
constexpr size_t kBatchDocuments = 1000;
constexpr size_t kBatchBytes = 16u << 20;

struct CollectionDeleter {
  void operator()(mongoc_collection_t* c) const { mongoc_collection_destroy(c); }
};
struct BulkDeleter {
  void operator()(mongoc_bulk_operation_t* b) const { mongoc_bulk_operation_destroy(b); }
};

int64_t ReplyCount(const bson_t* reply, const char* key) {
  bson_iter_t it;
  return bson_iter_init_find(&it, reply, key) ? bson_iter_as_int64(&it) : 0;
}

}  // namespace

BsonPtr UpsertSelector(const bson_t* doc, const std::vector<std::string>& fields) {
  BsonPtr selector = NewBson();
  bool any = false;
  for (const std::string& field : fields) {
    bson_iter_t it;
    bool found = bson_iter_init(&it, doc);
    size_t start = 0;
    while (found) {
      const size_t dot = field.find('.', start);
      const std::string part = field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      found = bson_iter_find(&it, part.c_str());
      if (!found || dot == std::string::npos) break;
      // Only subdocuments are looked into, as mongoimport does.
      bson_iter_t child;
      if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &child)) {
        found = false;
        break;
      }
      it = child;
      start = dot + 1;
    }
    if (found) {
      any = true;
      bson_append_iter(selector.get(), field.c_str(), static_cast<int>(field.size()), &it);
    } else {
      bson_append_null(selector.get(), field.c_str(), static_cast<int>(field.size()));
    }
  }
  return any ? std::move(selector) : nullptr;
}

ImportWriter::ImportWriter(Connection* connection, std::string db, std::string collection, WriteOptions options)
    : connection_(connection), db_(std::move(db)), collection_(std::move(collection)), options_(std::move(options)) {}

ImportWriter::~ImportWriter() { Join(); }

void ImportWriter::Join() noexcept {
  if (in_flight_.joinable()) in_flight_.join();
}

void ImportWriter::Wait() {
  Join();
  if (failure_) {
    std::exception_ptr failure = failure_;
    failure_ = nullptr;
    std::rethrow_exception(failure);
  }
}

void ImportWriter::Send() {
  Wait();
  if (!stopped_ && !queued_.empty()) {
    sending_.swap(queued_);
    sending_lines_.swap(lines_);
    in_flight_ = std::thread([this] {
      try {
        if (options_.mode == ImportMode::kInsert)
          WriteInserts();
        else
          WriteModes();
      } catch (...) {
        failure_ = std::current_exception();
      }
    });
  }
  queued_.clear();
  lines_.clear();
  queued_bytes_ = 0;
}

bool ImportWriter::Add(BsonPtr doc, uint64_t line) {
  if (stopped_) return false;
  queued_bytes_ += doc->len;
  queued_.push_back(std::move(doc));
  lines_.push_back(line);
  if (queued_.size() >= kBatchDocuments || queued_bytes_ >= kBatchBytes) Send();
  return !stopped_;
}

bool ImportWriter::Flush() {
  Send();
  Wait();
  return !stopped_;
}

void ImportWriter::Refused(const std::string& message) {
  ++failed_;
  if (options_.stop_on_error) {
    stopped_ = true;
    std::fprintf(stderr, "stopping at error: %s\n", message.c_str());
  } else {
    std::fprintf(stderr, "continuing through error: %s\n", message.c_str());
  }
}

void ImportWriter::WriteInserts() {
  const Connection::BatchResult result =
      connection_->InsertBatch(db_, collection_, sending_, options_.ordered, options_.bypass_validation);
  succeeded_ += static_cast<uint64_t>(result.inserted);
  for (const std::string& message : result.errors) Refused(message);
}

void ImportWriter::WriteModes() {
  std::unique_ptr<mongoc_collection_t, CollectionDeleter> coll(
      mongoc_client_get_collection(connection_->raw(), db_.c_str(), collection_.c_str()));
  BsonPtr options = NewBson();
  BSON_APPEND_BOOL(options.get(), "ordered", options_.ordered);
  std::unique_ptr<mongoc_bulk_operation_t, BulkDeleter> bulk(
      mongoc_collection_create_bulk_operation_with_opts(coll.get(), options.get()));
  if (options_.bypass_validation) mongoc_bulk_operation_set_bypass_document_validation(bulk.get(), true);
  BsonPtr upsert = NewBson();
  BSON_APPEND_BOOL(upsert.get(), "upsert", true);

  std::vector<uint64_t> op_lines;  // the input line of each operation in the bulk
  for (size_t i = 0; i < sending_.size() && !stopped_; ++i) {
    const bson_t* doc = sending_[i].get();
    const std::string where = "line " + std::to_string(sending_lines_[i]);
    BsonPtr selector = UpsertSelector(doc, options_.upsert_fields);
    bson_error_t error;
    bool appended;
    if (options_.mode == ImportMode::kDelete) {
      if (!selector) {
        std::fprintf(stderr, "%s: the document has none of the upsert fields; nothing to delete\n", where.c_str());
        continue;
      }
      appended = mongoc_bulk_operation_remove_one_with_opts(bulk.get(), selector.get(), nullptr, &error);
    } else if (!selector) {
      appended = mongoc_bulk_operation_insert_with_opts(bulk.get(), doc, nullptr, &error);
    } else if (options_.mode == ImportMode::kUpsert) {
      appended = mongoc_bulk_operation_replace_one_with_opts(bulk.get(), selector.get(), doc, upsert.get(), &error);
    } else {
      BsonPtr update = NewBson();
      BSON_APPEND_DOCUMENT(update.get(), "$set", doc);
      appended =
          mongoc_bulk_operation_update_one_with_opts(bulk.get(), selector.get(), update.get(), upsert.get(), &error);
    }
    if (appended)
      op_lines.push_back(sending_lines_[i]);
    else
      Refused(where + ": " + error.message);
  }
  if (op_lines.empty()) return;

  bson_t reply;
  bson_error_t error;
  const uint32_t ok = mongoc_bulk_operation_execute(bulk.get(), &reply, &error);
  succeeded_ += static_cast<uint64_t>(ReplyCount(&reply, "nInserted") + ReplyCount(&reply, "nMatched") +
                                      ReplyCount(&reply, "nUpserted") + ReplyCount(&reply, "nRemoved"));
  bool any_error = false;
  bson_iter_t errors, each;
  if (bson_iter_init_find(&errors, &reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&errors) &&
      bson_iter_recurse(&errors, &each)) {
    while (bson_iter_next(&each)) {
      any_error = true;
      bson_t entry;
      uint32_t length = 0;
      const uint8_t* data = nullptr;
      std::string message = "a document was refused";
      int64_t index = -1;
      if (BSON_ITER_HOLDS_DOCUMENT(&each)) {
        bson_iter_document(&each, &length, &data);
        if (bson_init_static(&entry, data, length)) {
          message = StringField(&entry, "errmsg", message);
          index = ReplyCount(&entry, "index");
        }
      }
      if (index >= 0 && static_cast<size_t>(index) < op_lines.size())
        message = "line " + std::to_string(op_lines[static_cast<size_t>(index)]) + ": " + message;
      Refused(message);
    }
  }
  bson_destroy(&reply);
  if (ok == 0 && !any_error) throw TransferError("writing to " + db_ + "." + collection_ + ": " + DescribeError(error));
}

}  // namespace docket::transfer
