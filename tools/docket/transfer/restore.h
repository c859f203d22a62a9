// `docket restore`: mongorestore's job and command line, against Docket or
// any MongoDB server. Reads what `docket dump` or mongodump writes: a dump
// directory, one .bson file, or an archive, gzipped or not.
#pragma once

#include <string>
#include <vector>

#include "tools/docket/transfer/command_flags.h"

namespace docket::transfer {

struct RestoreFlags {
  CommonFlags common;
  std::string path;        // dump directory or .bson file; default "dump"
  std::string archive;     // archive file, "-" for standard input
  bool archive_given = false;
  bool gzip = false;
  std::string db;
  std::string collection;
  std::vector<std::string> ns_include;
  std::vector<std::string> ns_exclude;
  bool drop = false;               // drop each collection before restoring it
  bool no_index_restore = false;
  bool no_options_restore = false;
  bool stop_on_error = false;      // stop at the first document the server refuses
  bool maintain_insertion_order = false;
  bool bypass_document_validation = false;
  int batch_size = 1000;           // documents per insert
};

CLI::App* AddRestoreCommand(CLI::App& app, RestoreFlags* flags);
// Exit code: 0 when every document and index was restored or (without
// --stopOnError) the refused documents were reported; 1 otherwise.
int RunRestore(RestoreFlags flags);

}  // namespace docket::transfer
