#include "tools/docket/transfer/restore_plan.h"

#include <algorithm>
#include <filesystem>

#include "tools/docket/transfer/byte_stream.h"

namespace docket::transfer {
namespace {

namespace fs = std::filesystem;

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool GlobMatch(const char* pattern, const char* text) {
  for (; *pattern != '\0'; ++pattern, ++text) {
    if (*pattern == '*') {
      for (const char* rest = text;; ++rest) {
        if (GlobMatch(pattern + 1, rest)) return true;
        if (*rest == '\0') return false;
      }
    }
    char literal = *pattern;
    if (literal == '\\' && pattern[1] != '\0') literal = *++pattern;
    if (*text != literal) return false;
  }
  return *text == '\0';
}

CollectionMetadata ReadMetadata(const std::string& path) {
  ByteReader reader(path);
  return MetadataFromJson(reader.ReadAll(), path);
}

// The intents of one database directory.
void PlanDatabase(const fs::path& dir, const std::string& db, bool gzip, std::vector<RestoreIntent>* out) {
  const std::string bson_suffix = gzip ? ".bson.gz" : ".bson";
  const std::string metadata_suffix = gzip ? ".metadata.json.gz" : ".metadata.json";
  std::vector<std::string> stems;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (EndsWith(name, metadata_suffix))
      stems.push_back(name.substr(0, name.size() - metadata_suffix.size()));
    else if (EndsWith(name, bson_suffix))
      stems.push_back(name.substr(0, name.size() - bson_suffix.size()));
  }
  std::sort(stems.begin(), stems.end());
  stems.erase(std::unique(stems.begin(), stems.end()), stems.end());
  for (const std::string& stem : stems) {
    RestoreIntent intent;
    intent.db = db;
    const fs::path metadata_path = dir / (stem + metadata_suffix);
    if (fs::exists(metadata_path)) intent.metadata = ReadMetadata(metadata_path.string());
    intent.collection = intent.metadata && !intent.metadata->name.empty() ? intent.metadata->name
                                                                          : CollectionNameFromStem(stem);
    const fs::path bson_path = dir / (stem + bson_suffix);
    if (fs::exists(bson_path)) intent.bson_path = bson_path.string();
    if (SkippedByRestore(intent.collection)) continue;
    out->push_back(std::move(intent));
  }
}

bool HoldsDumpFiles(const fs::path& dir) {
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    // prelude.json and mongodump --oplog's oplog.bson sit beside the database directories.
    if (entry.is_regular_file() && name.rfind("prelude.json", 0) != 0 && name.rfind("oplog.bson", 0) != 0 &&
        (name.find(".bson") != std::string::npos || name.find(".metadata.json") != std::string::npos))
      return true;
  }
  return false;
}

}  // namespace

bool NamespaceMatches(const std::string& pattern, const std::string& ns) {
  return GlobMatch(pattern.c_str(), ns.c_str());
}

bool NamespaceFilter::Accepts(const std::string& ns) const {
  bool included = include.empty();
  for (const std::string& pattern : include) included = included || NamespaceMatches(pattern, ns);
  if (!included) return false;
  for (const std::string& pattern : exclude)
    if (NamespaceMatches(pattern, ns)) return false;
  return true;
}

bool SkippedByRestore(const std::string& collection) {
  return collection.rfind("system.", 0) == 0 && collection != "system.js";
}

std::vector<RestoreIntent> PlanFromDirectory(const std::string& path, const std::string& db,
                                             const std::string& collection, bool gzip) {
  if (path == "-") {
    if (db.empty() || collection.empty())
      throw TransferError("restoring from standard input (-) needs --db and --collection");
    RestoreIntent intent;
    intent.db = db;
    intent.collection = collection;
    intent.bson_path = "-";
    std::vector<RestoreIntent> intents;
    intents.push_back(std::move(intent));
    return intents;
  }
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error || !fs::exists(status)) throw TransferError("nothing to restore: " + path + " does not exist");
  std::vector<RestoreIntent> intents;
  if (fs::is_regular_file(status)) {
    const std::string name = fs::path(path).filename().string();
    const std::string suffix = EndsWith(name, ".bson.gz") ? ".bson.gz" : ".bson";
    if (!EndsWith(name, suffix)) throw TransferError(path + " is not a .bson file (or a directory) to restore");
    if (db.empty()) throw TransferError("restoring one .bson file needs --db (and --collection if its name is not the collection's)");
    RestoreIntent intent;
    intent.db = db;
    const std::string stem = name.substr(0, name.size() - suffix.size());
    const fs::path metadata_path = fs::path(path).parent_path() / (stem + (suffix == ".bson.gz" ? ".metadata.json.gz" : ".metadata.json"));
    if (fs::exists(metadata_path)) intent.metadata = ReadMetadata(metadata_path.string());
    intent.collection = !collection.empty() ? collection : CollectionNameFromStem(stem);
    intent.bson_path = path;
    intents.push_back(std::move(intent));
    return intents;
  }
  if (!fs::is_directory(status)) throw TransferError(path + " is neither a directory nor a .bson file");
  if (!collection.empty() && db.empty()) throw TransferError("--collection needs --db");
  if (HoldsDumpFiles(path)) {
    // One database's directory: restored into --db (or the directory's name).
    const std::string target = db.empty() ? fs::path(path).lexically_normal().filename().string() : db;
    PlanDatabase(path, target, gzip, &intents);
  } else {
    std::vector<fs::path> databases;
    for (const fs::directory_entry& entry : fs::directory_iterator(path))
      if (entry.is_directory()) databases.push_back(entry.path());
    std::sort(databases.begin(), databases.end());
    for (const fs::path& dir : databases) {
      const std::string name = dir.filename().string();
      if (name == "local" || name == "config") continue;
      PlanDatabase(dir, name, gzip, &intents);
    }
    // A dump root with --db restores that database only.
    if (!db.empty()) std::erase_if(intents, [&](const RestoreIntent& i) { return i.db != db; });
  }
  if (!collection.empty())
    std::erase_if(intents, [&](const RestoreIntent& i) { return i.collection != collection; });
  if (intents.empty())
    throw TransferError("nothing to restore in " + path +
                        (gzip ? " (--gzip looks for .bson.gz files)" : " (gzipped dumps need --gzip)"));
  return intents;
}

}  // namespace docket::transfer
