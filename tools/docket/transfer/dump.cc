#include "tools/docket/transfer/dump.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>

#include "docket_build_info.h"
#include "tools/docket/transfer/archive.h"
#include "tools/docket/transfer/byte_stream.h"
#include "tools/docket/transfer/connection.h"
#include "tools/docket/transfer/dump_layout.h"
#include "tools/docket/transfer/progress.h"

namespace docket::transfer {
namespace {

// One collection or view to dump, with everything its metadata says.
struct DumpIntent {
  std::string db;
  CollectionMetadata metadata;
  bool is_view() const { return metadata.type == "view"; }
};

bool Excluded(const DumpFlags& flags, const std::string& name) {
  // mongodump leaves out system collections (except system.js); views'
  // definitions travel in their metadata, not as system.views documents.
  if (name.rfind("system.", 0) == 0 && name != "system.js") return true;
  for (const std::string& excluded : flags.exclude_collections)
    if (name == excluded) return true;
  for (const std::string& prefix : flags.exclude_prefixes)
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

void Validate(DumpFlags* flags) {
  if (!flags->collection.empty() && flags->db.empty())
    throw TransferError("cannot dump a collection without a specified database (--db)");
  if (!flags->query.empty() && !flags->query_file.empty())
    throw TransferError("either --query or --queryFile can be specified as a query option, not both");
  if ((!flags->query.empty() || !flags->query_file.empty()) && flags->collection.empty())
    throw TransferError("cannot dump using a query without a specified collection (--collection)");
  if ((!flags->exclude_collections.empty() || !flags->exclude_prefixes.empty()) &&
      (flags->db.empty() || !flags->collection.empty()))
    throw TransferError("--excludeCollection and --excludeCollectionsWithPrefix need --db and no --collection");
  if (flags->archive_given && !flags->out.empty())
    throw TransferError("--out and --archive cannot be used together");
  if (flags->archive_given && flags->archive.empty()) flags->archive = "-";
  if (flags->out == "-" && flags->collection.empty())
    throw TransferError("can only dump a single collection to standard output (--out -): give --db and --collection");
  if (flags->out == "-" && flags->gzip) throw TransferError("--gzip is not used with --out - (pipe to gzip)");
  if (!flags->archive_given && flags->out.empty()) flags->out = "dump";
}

std::vector<DumpIntent> PlanDump(Connection& connection, const DumpFlags& flags) {
  std::vector<std::string> databases;
  if (!flags.db.empty()) {
    databases.push_back(flags.db);
  } else {
    for (const std::string& db : connection.DatabaseNames())
      if (db != "local" && db != "config") databases.push_back(db);
  }
  std::vector<DumpIntent> intents;
  for (const std::string& db : databases) {
    bool found = false;
    for (const BsonPtr& info : connection.Collections(db)) {
      const std::string name = StringField(info.get(), "name");
      if (!flags.collection.empty() ? name != flags.collection : Excluded(flags, name)) continue;
      found = true;
      std::vector<BsonPtr> indexes;
      if (StringField(info.get(), "type", "collection") != "view") indexes = connection.Indexes(db, name);
      intents.push_back(DumpIntent{db, MetadataFromListing(info.get(), std::move(indexes))});
    }
    if (!found && !flags.collection.empty()) {
      // mongodump dumps a collection that does not exist as an empty one.
      DumpIntent intent{db, CollectionMetadata{}};
      intent.metadata.name = flags.collection;
      intent.metadata.options = NewBson();
      intents.push_back(std::move(intent));
    }
  }
  return intents;
}

BsonPtr QueryFilter(const DumpFlags& flags) {
  if (!flags.query.empty()) return FromJson(flags.query, "--query");
  if (!flags.query_file.empty()) {
    ByteReader reader(flags.query_file);
    return FromJson(reader.ReadAll(), "--queryFile " + flags.query_file);
  }
  return NewBson();
}

// Reads the collection's documents in natural (insertion) order.
uint64_t DumpDocuments(Connection& connection, const DumpIntent& intent, const bson_t* filter,
                       const std::function<void(const bson_t*)>& write) {
  const std::string ns = intent.db + "." + intent.metadata.name;
  const int64_t total = bson_empty(filter) ? connection.EstimatedCount(intent.db, intent.metadata.name)
                                           : connection.CountMatching(intent.db, intent.metadata.name, filter);
  Progress progress(ns, static_cast<uint64_t>(std::max<int64_t>(total, 0)));
  uint64_t written = 0;
  connection.Find(intent.db, intent.metadata.name, filter, nullptr, [&](const bson_t* doc) {
    write(doc);
    ++written;
    progress.Add(1);
  });
  progress.Finish();
  return written;
}

void DumpToDirectory(Connection& connection, const DumpFlags& flags, const std::vector<DumpIntent>& intents,
                     const bson_t* filter) {
  namespace fs = std::filesystem;
  const std::string suffix = flags.gzip ? ".gz" : "";
  if (flags.out == "-") {
    ByteWriter out("-", false);
    for (const DumpIntent& intent : intents) {
      if (intent.is_view()) throw TransferError(intent.db + "." + intent.metadata.name + " is a view: nothing to write to standard output");
      DumpDocuments(connection, intent, filter, [&](const bson_t* doc) { out.WriteDocument(doc); });
    }
    out.Close();
    return;
  }
  for (const DumpIntent& intent : intents) {
    const fs::path dir = fs::path(flags.out) / intent.db;
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) throw TransferError("cannot create " + dir.string() + ": " + error.message());
    const std::string stem = (dir / CollectionFileStem(intent.metadata.name)).string();
    if (!intent.is_view()) {
      ByteWriter out(stem + ".bson" + suffix, flags.gzip);
      DumpDocuments(connection, intent, filter, [&](const bson_t* doc) { out.WriteDocument(doc); });
      out.Close();
    }
    ByteWriter metadata(stem + ".metadata.json" + suffix, flags.gzip);
    metadata.Write(MetadataToJson(intent.metadata));
    metadata.Close();
  }
  if (!intents.empty()) {
    const fs::path root = flags.db.empty() ? fs::path(flags.out) : fs::path(flags.out) / flags.db;
    ByteWriter prelude((root / "prelude.json").string() + suffix, flags.gzip);
    BsonPtr doc = NewBson();
    BSON_APPEND_UTF8(doc.get(), "ServerVersion", connection.ServerVersion().c_str());
    BSON_APPEND_UTF8(doc.get(), "ToolVersion", "docket " DOCKET_VERSION);
    prelude.Write(ToJson(doc.get(), JsonForm::kRelaxed));
    prelude.Close();
  }
}

void DumpToArchive(Connection& connection, const DumpFlags& flags, const std::vector<DumpIntent>& intents,
                   const bson_t* filter) {
  std::vector<ArchiveCollection> prelude;
  for (const DumpIntent& intent : intents) {
    const std::string type = intent.metadata.type == "collection" ? "" : intent.metadata.type;
    prelude.push_back(ArchiveCollection{intent.db, intent.metadata.name, MetadataToJson(intent.metadata), type});
  }
  ByteWriter out(flags.archive, flags.gzip);
  ArchiveWriter archive(&out, connection.ServerVersion(), "docket " DOCKET_VERSION, prelude);
  for (const DumpIntent& intent : intents) {
    if (intent.is_view()) continue;  // a view's definition is all its prelude entry needs
    archive.BeginCollection(intent.db, intent.metadata.name);
    DumpDocuments(connection, intent, filter, [&](const bson_t* doc) { archive.WriteDocument(doc); });
    archive.EndCollection();
  }
  out.Close();
}

}  // namespace

CLI::App* AddDumpCommand(CLI::App& app, DumpFlags* flags) {
  CLI::App* dump = app.add_subcommand("dump", "write databases to a directory or archive, as mongodump");
  AddCommonFlags(dump, &flags->common);
  dump->add_option("--db,-d", flags->db, "database to dump (default: all but local and config)");
  dump->add_option("--collection,-c", flags->collection, "collection to dump (needs --db)");
  dump->add_option("--query,-q", flags->query, "Extended JSON filter for the documents (needs --collection)");
  dump->add_option("--queryFile", flags->query_file, "file holding the --query filter");
  dump->add_option("--out,-o", flags->out, "output directory, or - for standard output (default: dump)");
  dump->add_option("--archive", flags->archive, "write one archive to this file (standard output without a value)")
      ->expected(0, 1);
  dump->add_flag("--gzip", flags->gzip, "compress the files or the archive with gzip");
  dump->add_option("--excludeCollection", flags->exclude_collections, "collection to leave out (repeatable)");
  dump->add_option("--excludeCollectionsWithPrefix", flags->exclude_prefixes,
                   "leave out collections whose names start with this (repeatable)");
  dump->callback([flags, dump] { flags->archive_given = dump->count("--archive") > 0; });
  return dump;
}

int RunDump(DumpFlags flags) {
  return RunCommandBody(flags.common, [&] {
    Validate(&flags);
    Connection connection(flags.common.connection.Uri());
    BsonPtr filter = QueryFilter(flags);
    const std::vector<DumpIntent> intents = PlanDump(connection, flags);
    if (flags.archive_given)
      DumpToArchive(connection, flags, intents, filter.get());
    else
      DumpToDirectory(connection, flags, intents, filter.get());
    return 0;
  });
}

}  // namespace docket::transfer
