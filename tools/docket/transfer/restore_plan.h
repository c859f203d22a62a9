// What `docket restore` will restore: the collections and views found in a
// dump directory (dump_layout.h) or an archive's prelude (archive.h), after
// the namespace filters (--db, --collection, --nsInclude, --nsExclude).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/docket/transfer/dump_layout.h"

namespace docket::transfer {

struct RestoreIntent {
  std::string db;
  std::string collection;
  std::optional<CollectionMetadata> metadata;  // absent: no metadata file (data only)
  std::string bson_path;                        // directory layout: the documents' file; empty for a view
  bool is_view() const { return metadata && metadata->type == "view"; }
  std::string ns() const { return db + "." + collection; }
};

// mongorestore's namespace patterns: "db.collection" where * matches any run
// of characters and \ makes the next character literal.
bool NamespaceMatches(const std::string& pattern, const std::string& ns);

struct NamespaceFilter {
  std::vector<std::string> include;  // empty: everything
  std::vector<std::string> exclude;
  bool Accepts(const std::string& ns) const;
};

// Everything under `path`: a dump root (database directories), one
// database's directory (`db` names the target database), or one .bson file
// (`db` and, unless its file name says it, `collection` name the target), or
// "-": documents on standard input (`db` and `collection` required).
// `gzip` chooses the .gz files, as mongorestore's --gzip. Throws
// TransferError when the path holds nothing to restore.
std::vector<RestoreIntent> PlanFromDirectory(const std::string& path, const std::string& db,
                                             const std::string& collection, bool gzip);

// Whether a collection name is one restore leaves out (system collections
// other than system.js).
bool SkippedByRestore(const std::string& collection);

}  // namespace docket::transfer
