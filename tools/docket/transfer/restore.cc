#include "tools/docket/transfer/restore.h"

#include <CLI/CLI.hpp>

#include <atomic>
#include <map>
#include <optional>
#include <thread>

#include "tools/docket/transfer/archive.h"
#include "tools/docket/transfer/byte_stream.h"
#include "tools/docket/transfer/connection.h"
#include "tools/docket/transfer/progress.h"
#include "tools/docket/transfer/restore_plan.h"

namespace docket::transfer {
namespace {

constexpr int kNamespaceNotFound = 26;
constexpr int kNamespaceExists = 48;
constexpr size_t kBatchBytes = 8 << 20;  // well under the 48 MB message limit
constexpr int kErrorsShown = 10;
constexpr std::chrono::milliseconds kIndexPollInterval{200};

bool IsServerError(const bson_error_t& error, int code) {
  return error.domain == MONGOC_ERROR_SERVER && static_cast<int>(error.code) == code;
}

// Runs `command` on `db`; false (nothing thrown) when the server answers
// `tolerated`.
bool RunTolerating(Connection& connection, const std::string& db, const bson_t* command, int tolerated) {
  bson_t reply;
  bson_error_t error;
  const bool ok = mongoc_client_command_simple(connection.raw(), db.c_str(), command, nullptr, &reply, &error);
  bson_destroy(&reply);
  if (ok) return true;
  if (IsServerError(error, tolerated)) return false;
  bson_iter_t it;
  const std::string name = bson_iter_init(&it, command) && bson_iter_next(&it) ? bson_iter_key(&it) : "command";
  throw TransferError(name + " on " + db + " failed: " + DescribeError(error));
}

class Restorer {
 public:
  Restorer(Connection* connection, const RestoreFlags& flags) : connection_(connection), flags_(flags) {}

  // Drops (with --drop) and creates the collection or view with its options.
  void Prepare(const RestoreIntent& intent) {
    if (flags_.drop) {
      BsonPtr drop = NewBson();
      BSON_APPEND_UTF8(drop.get(), "drop", intent.collection.c_str());
      RunTolerating(*connection_, intent.db, drop.get(), kNamespaceNotFound);
    }
    BsonPtr create = NewBson();
    BSON_APPEND_UTF8(create.get(), "create", intent.collection.c_str());
    if (intent.metadata && (!flags_.no_options_restore || intent.is_view()))
      bson_concat(create.get(), intent.metadata->options.get());
    if (!RunTolerating(*connection_, intent.db, create.get(), kNamespaceExists) && intent.is_view())
      throw TransferError("cannot restore the view " + intent.ns() + ": a collection or view of that name exists (use --drop)");
  }

  // Queues a document; inserts a batch once it is full.
  void Add(const RestoreIntent& intent, BsonPtr doc) {
    Pending& pending = pending_[intent.ns()];
    pending.bytes += doc->len;
    pending.docs.push_back(std::move(doc));
    if (pending.docs.size() >= static_cast<size_t>(flags_.batch_size) || pending.bytes >= kBatchBytes)
      Flush(intent);
  }

  void Flush(const RestoreIntent& intent) {
    Pending& pending = pending_[intent.ns()];
    if (pending.docs.empty()) return;
    const bool ordered = flags_.stop_on_error || flags_.maintain_insertion_order;
    const Connection::BatchResult result = connection_->InsertBatch(
        intent.db, intent.collection, pending.docs, ordered, flags_.bypass_document_validation);
    restored_ += result.inserted;
    failed_ += static_cast<int64_t>(result.errors.size());
    for (const std::string& message : result.errors) {
      if (shown_errors_++ < kErrorsShown && !flags_.common.quiet)
        std::fprintf(stderr, "%s: continuing through error: %s\n", intent.ns().c_str(), message.c_str());
    }
    pending.docs.clear();
    pending.bytes = 0;
    if (flags_.stop_on_error && !result.errors.empty())
      throw TransferError(intent.ns() + ": a document was refused and --stopOnError was given: " + result.errors[0]);
  }

  void RestoreIndexes(const RestoreIntent& intent) {
    if (flags_.no_index_restore || !intent.metadata || intent.is_view()) return;
    BsonPtr command = NewBson();
    BSON_APPEND_UTF8(command.get(), "createIndexes", intent.collection.c_str());
    bson_t indexes;
    BSON_APPEND_ARRAY_BEGIN(command.get(), "indexes", &indexes);
    int count = 0;
    for (const BsonPtr& index : intent.metadata->indexes) {
      if (StringField(index.get(), "name") == "_id_") continue;  // made with the collection
      const std::string key = std::to_string(count++);
      bson_t spec;
      bson_init(&spec);
      bson_copy_to_excluding_noinit(index.get(), &spec, "ns", nullptr);  // mongod 4.2 and earlier listed ns
      bson_append_document(&indexes, key.c_str(), -1, &spec);
      bson_destroy(&spec);
    }
    bson_append_array_end(command.get(), &indexes);
    if (count == 0) return;
    if (!flags_.common.quiet) std::fprintf(stderr, "%s: restoring %d index(es)\n", intent.ns().c_str(), count);
    const std::string failure = BuildWithProgress(intent, command.get());
    if (!failure.empty())
      throw TransferError(intent.ns() + ": error creating indexes for " + intent.ns() + ": " + failure);
  }

  // Runs createIndexes on a connection of its own while this one reads the
  // build's progress from currentOp ({progress: {done, total}}, as mongod
  // reports it) into a progress bar. Returns the build's error, or "".
  std::string BuildWithProgress(const RestoreIntent& intent, const bson_t* command) {
    std::atomic<bool> finished{false};
    std::string failure;
    std::thread build([&] {
      try {
        Connection builder(flags_.common.connection.Uri());
        builder.RunCommand(intent.db, command);
      } catch (const TransferError& e) {
        failure = e.what();
      }
      finished = true;
    });
    std::optional<Progress> progress;  // made once the server reports figures
    uint64_t total = 0;
    BsonPtr current_op = NewBson();
    BSON_APPEND_INT32(current_op.get(), "currentOp", 1);
    BSON_APPEND_UTF8(current_op.get(), "ns", intent.ns().c_str());
    BSON_APPEND_UTF8(current_op.get(), "command.createIndexes", intent.collection.c_str());
    while (!finished) {
      std::this_thread::sleep_for(kIndexPollInterval);
      if (finished || flags_.common.quiet) continue;
      BsonPtr reply;
      try {
        reply = connection_->RunCommand("admin", current_op.get());
      } catch (const TransferError&) {
        continue;  // progress is a courtesy: a server without currentOp still builds
      }
      bson_iter_t it, done, total_it;
      if (bson_iter_init(&it, reply.get()) && bson_iter_find_descendant(&it, "inprog.0.progress.done", &done) &&
          bson_iter_init(&it, reply.get()) && bson_iter_find_descendant(&it, "inprog.0.progress.total", &total_it)) {
        if (!progress) progress.emplace(intent.ns() + " index build", 0);
        total = static_cast<uint64_t>(bson_iter_as_int64(&total_it));
        progress->Set(static_cast<uint64_t>(bson_iter_as_int64(&done)), total);
      }
    }
    build.join();
    if (progress && failure.empty()) progress->Set(total, total);  // the scan ended after the last look
    if (progress) progress->Finish();
    return failure;
  }

  int64_t restored() const { return restored_; }
  int64_t failed() const { return failed_; }

 private:
  struct Pending {
    std::vector<BsonPtr> docs;
    size_t bytes = 0;
  };
  Connection* connection_;
  const RestoreFlags& flags_;
  std::map<std::string, Pending> pending_;
  int64_t restored_ = 0;
  int64_t failed_ = 0;
  int shown_errors_ = 0;
};

NamespaceFilter FilterFor(const RestoreFlags& flags) {
  NamespaceFilter filter{flags.ns_include, flags.ns_exclude};
  return filter;
}

// Views after collections, as mongorestore: a view's source should exist
// when the view is made.
void PrepareAll(Restorer& restorer, const std::vector<RestoreIntent>& intents) {
  for (const RestoreIntent& intent : intents)
    if (!intent.is_view()) restorer.Prepare(intent);
  for (const RestoreIntent& intent : intents)
    if (intent.is_view()) restorer.Prepare(intent);
}

void RestoreDirectory(const RestoreFlags& flags, Restorer& restorer) {
  std::vector<RestoreIntent> intents = PlanFromDirectory(flags.path, flags.db, flags.collection, flags.gzip);
  const NamespaceFilter filter = FilterFor(flags);
  std::erase_if(intents, [&](const RestoreIntent& i) { return !filter.Accepts(i.ns()); });
  if (intents.empty()) throw TransferError("nothing to restore: the namespace filters leave out everything in " + flags.path);
  PrepareAll(restorer, intents);
  for (const RestoreIntent& intent : intents) {
    if (intent.bson_path.empty() || intent.is_view()) continue;
    ByteReader reader(intent.bson_path);
    Progress progress(intent.ns(), 0);
    while (std::optional<BsonPtr> doc = reader.ReadDocument()) {
      restorer.Add(intent, std::move(*doc));
      progress.Add(1);
    }
    restorer.Flush(intent);
    progress.Finish();
  }
  for (const RestoreIntent& intent : intents) restorer.RestoreIndexes(intent);
}

void RestoreArchive(const RestoreFlags& flags, Restorer& restorer) {
  ByteReader in(flags.archive);
  ArchiveReader archive(&in);
  NamespaceFilter filter = FilterFor(flags);
  if (!flags.db.empty())
    filter.include.push_back(flags.collection.empty() ? flags.db + ".*" : flags.db + "." + flags.collection);
  std::vector<RestoreIntent> ordered;
  std::map<std::string, size_t> by_namespace;  // index in `ordered`
  for (const ArchiveCollection& c : archive.prelude()) {
    if (c.db.empty()) {
      // mongodump --oplog's entries: restoring is what --oplogReplay would do.
      if (!flags.common.quiet)
        std::fprintf(stderr, "the archive's oplog (%s) is not replayed: docket restore has no --oplogReplay\n",
                     c.collection.c_str());
      continue;
    }
    RestoreIntent intent;
    intent.db = c.db;
    intent.collection = c.collection;
    if (!c.metadata_json.empty())
      intent.metadata = MetadataFromJson(c.metadata_json, "the archive's metadata of " + c.db + "." + c.collection);
    if (SkippedByRestore(intent.collection) || intent.db == "local" || intent.db == "config" ||
        !filter.Accepts(intent.ns()))
      continue;
    by_namespace[intent.ns()] = ordered.size();
    ordered.push_back(std::move(intent));
  }
  if (ordered.empty()) throw TransferError("nothing to restore: the archive holds no collection the filters accept");
  PrepareAll(restorer, ordered);
  Progress progress("archive " + flags.archive, 0);
  while (std::optional<ArchiveReader::Event> event = archive.Next()) {
    auto it = by_namespace.find(event->db + "." + event->collection);
    if (it == by_namespace.end()) continue;  // filtered out
    const RestoreIntent& intent = ordered[it->second];
    if (event->document == nullptr) {
      restorer.Flush(intent);
      continue;
    }
    restorer.Add(intent, std::move(event->document));
    progress.Add(1);
  }
  for (const RestoreIntent& intent : ordered) restorer.Flush(intent);
  progress.Finish();
  for (const RestoreIntent& intent : ordered) restorer.RestoreIndexes(intent);
}

}  // namespace

CLI::App* AddRestoreCommand(CLI::App& app, RestoreFlags* flags) {
  CLI::App* restore = app.add_subcommand("restore", "load a dump directory, .bson file or archive, as mongorestore");
  AddCommonFlags(restore, &flags->common);
  restore->add_option("path", flags->path, "dump directory or .bson file (default: dump)");
  restore->add_option("--dir", flags->path, "the same as the positional path");
  restore->add_option("--archive", flags->archive, "read one archive from this file (standard input without a value)")
      ->expected(0, 1);
  restore->add_flag("--gzip", flags->gzip, "the dump's files are gzipped (.bson.gz); archives are recognised either way");
  restore->add_option("--db,-d", flags->db, "database to restore into, or to restore from a full dump");
  restore->add_option("--collection,-c", flags->collection, "collection to restore (needs --db)");
  restore->add_option("--nsInclude", flags->ns_include, "restore only namespaces matching db.coll (* wildcards; repeatable)");
  restore->add_option("--nsExclude", flags->ns_exclude, "leave out namespaces matching db.coll (* wildcards; repeatable)");
  restore->add_flag("--drop", flags->drop, "drop each collection before restoring it");
  restore->add_flag("--noIndexRestore", flags->no_index_restore, "do not create the dump's indexes");
  restore->add_flag("--noOptionsRestore", flags->no_options_restore, "create collections without the dump's options");
  restore->add_flag("--stopOnError", flags->stop_on_error, "stop at the first document the server refuses");
  restore->add_flag("--maintainInsertionOrder", flags->maintain_insertion_order, "insert in the dump's order");
  restore->add_flag("--bypassDocumentValidation", flags->bypass_document_validation, "skip collections' validators");
  restore->add_option("--batchSize", flags->batch_size, "documents per insert")->check(CLI::Range(1, 100000));
  restore->callback([flags, restore] { flags->archive_given = restore->count("--archive") > 0; });
  return restore;
}

int RunRestore(RestoreFlags flags) {
  return RunCommandBody(flags.common, [&] {
    if (flags.archive_given && !flags.path.empty())
      throw TransferError("give either --archive or a dump directory, not both");
    if (flags.archive_given && flags.archive.empty()) flags.archive = "-";
    if (!flags.collection.empty() && flags.db.empty()) throw TransferError("--collection needs --db");
    if (flags.path.empty()) flags.path = "dump";
    Connection connection(flags.common.connection.Uri());
    Restorer restorer(&connection, flags);
    const auto summary = [&] {
      if (!flags.common.quiet)
        std::fprintf(stderr, "%lld document(s) restored successfully. %lld document(s) failed to restore.\n",
                     static_cast<long long>(restorer.restored()), static_cast<long long>(restorer.failed()));
    };
    try {
      if (flags.archive_given)
        RestoreArchive(flags, restorer);
      else
        RestoreDirectory(flags, restorer);
    } catch (const TransferError&) {
      summary();
      throw;
    }
    summary();
    return 0;
  });
}

}  // namespace docket::transfer
