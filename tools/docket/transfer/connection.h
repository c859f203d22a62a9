// A client connection for the data-moving commands: one libmongoc client (so
// one thread uses it) to Docket or to any MongoDB server, as mongodump's.
#pragma once

#include <mongoc/mongoc.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tools/docket/transfer/bson_value.h"
#include "tools/docket/transfer/command_flags.h"

namespace docket::transfer {


// Not thread-safe: one thread at a time. Every method throws TransferError
// with the server's message (and code) on failure.
class Connection {
 public:
  explicit Connection(const std::string& uri);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The reply of a command that succeeded (ok: 1).
  BsonPtr RunCommand(const std::string& db, const bson_t* command);
  // "6.0.x" as buildInfo says.
  std::string ServerVersion();
  std::vector<std::string> DatabaseNames();
  // listCollections' documents (name, type, options, info) in name order.
  std::vector<BsonPtr> Collections(const std::string& db);
  // listIndexes' documents, in the server's order (the _id index first).
  std::vector<BsonPtr> Indexes(const std::string& db, const std::string& collection);
  // Calls `each` for every document find returns; `options` as
  // mongoc_collection_find_with_opts takes them (sort, limit, projection...).
  void Find(const std::string& db, const std::string& collection, const bson_t* filter, const bson_t* options,
            const std::function<void(const bson_t*)>& each);
  // estimatedDocumentCount; 0 for a view.
  int64_t EstimatedCount(const std::string& db, const std::string& collection);
  int64_t CountMatching(const std::string& db, const std::string& collection, const bson_t* filter);

  // The outcome of inserting a batch unordered: documents the server wrote,
  // and the messages of those it refused (duplicate keys, validation...).
  struct BatchResult {
    int64_t inserted = 0;
    std::vector<std::string> errors;
  };
  // Inserts `docs` in one bulk write. `ordered` stops at the first refused
  // document, as --stopOnError asks; `bypass_validation` as
  // bypassDocumentValidation. Throws only when the write could not be made
  // at all (network, bad namespace); refused documents are in the result.
  BatchResult InsertBatch(const std::string& db, const std::string& collection, const std::vector<BsonPtr>& docs,
                          bool ordered, bool bypass_validation);

  mongoc_client_t* raw() { return client_; }

 private:
  mongoc_uri_t* uri_ = nullptr;
  mongoc_client_t* client_ = nullptr;
};

// The message of a libmongoc error, with its code when it has one.
std::string DescribeError(const bson_error_t& error);

}  // namespace docket::transfer
