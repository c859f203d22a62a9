// Writes an import's documents in batches, in mongoimport's modes, and
// counts what the server did with them. Refused documents (duplicate _id,
// validation) are counted and reported on standard error, never dropped
// silently.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "tools/docket/transfer/bson_value.h"
#include "tools/docket/transfer/connection.h"

namespace docket::transfer {

enum class ImportMode {
  kInsert,  // insert; an existing _id is a refused document
  kUpsert,  // replace the document matching the upsert fields, or insert
  kMerge,   // $set the document's fields into the match, or insert
  kDelete,  // delete one document matching the upsert fields
};

struct WriteOptions {
  ImportMode mode = ImportMode::kInsert;
  std::vector<std::string> upsert_fields = {"_id"};  // the match of upsert, merge and delete
  bool ordered = false;                              // one bulk write in input order, stopping at a refusal
  bool stop_on_error = false;                        // the first refused document ends the import
  bool bypass_validation = false;
};

// Used by one thread. A full batch is written by a thread of the writer's
// own while the caller goes on reading the next (the connection is used by
// that thread alone meanwhile); one batch at most is in flight, and the next
// waits for it, so batches reach the server in input order and a refusal
// under stop_on_error stops everything after it. The Connection must
// outlive the writer.
class ImportWriter {
 public:
  ImportWriter(Connection* connection, std::string db, std::string collection, WriteOptions options);
  ~ImportWriter();  // waits for the batch in flight
  ImportWriter(const ImportWriter&) = delete;
  ImportWriter& operator=(const ImportWriter&) = delete;

  // Queues `doc` (read from `line`), writing a batch when 1000 documents or
  // 16 MiB are queued. Returns false once a refusal has stopped the import
  // (stop_on_error); nothing more is written then.
  bool Add(BsonPtr doc, uint64_t line);
  // Writes what is queued and waits until every batch is written; false as
  // Add. Throws the TransferError of a batch that could not be written.
  bool Flush();
  // Waits for the batch in flight without reporting its failure (after
  // another error, before the counts are read).
  void Join() noexcept;

  // Documents inserted, replaced, merged or deleted (a match that was
  // already identical counts: the document is there as asked).
  uint64_t succeeded() const { return succeeded_; }
  uint64_t failed() const { return failed_; }
  bool stopped() const { return stopped_; }

 private:
  // Starts writing the queued batch (after the one in flight is done).
  void Send();
  // Waits for the batch in flight; throws its TransferError.
  void Wait();
  // Write the batch in sending_ (on the writer's thread).
  void WriteInserts();
  void WriteModes();
  void Refused(const std::string& message);

  Connection* connection_;
  std::string db_;
  std::string collection_;
  WriteOptions options_;
  std::vector<BsonPtr> queued_;
  std::vector<uint64_t> lines_;
  size_t queued_bytes_ = 0;
  std::vector<BsonPtr> sending_;  // the batch in flight, owned by in_flight_ while it runs
  std::vector<uint64_t> sending_lines_;
  std::thread in_flight_;
  std::exception_ptr failure_;    // set by in_flight_, read after joining it
  std::atomic<uint64_t> succeeded_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<bool> stopped_{false};
};

// mongoimport's match for upsert, merge and delete: {field: value} for each
// upsert field (a dotted field looks into subdocuments; absent ones match
// null), or nullptr when the document has none of them.
BsonPtr UpsertSelector(const bson_t* doc, const std::vector<std::string>& fields);

}  // namespace docket::transfer
