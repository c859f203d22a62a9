// `docket dump`: mongodump's job and command line, against Docket or any
// MongoDB server. Writes mongodump's directory layout (dump_layout.h) or its
// --archive stream (archive.h), either gzipped with --gzip.
#pragma once

#include <string>
#include <vector>

#include "tools/docket/transfer/command_flags.h"

namespace docket::transfer {

struct DumpFlags {
  CommonFlags common;
  std::string db;          // empty: every database but local and config
  std::string collection;  // empty: every collection (requires db when set)
  std::string query;       // Extended JSON filter (requires collection)
  std::string query_file;  // a file holding the filter
  std::string out;         // directory, "-" for standard output; default "dump"
  std::string archive;     // file, "-" for standard output
  bool archive_given = false;
  bool gzip = false;
  std::vector<std::string> exclude_collections;
  std::vector<std::string> exclude_prefixes;
};

// Registers the subcommand and its flags on `app`.
CLI::App* AddDumpCommand(CLI::App& app, DumpFlags* flags);
// Returns the exit code (0 done, 1 failed with a message on standard error).
int RunDump(DumpFlags flags);

}  // namespace docket::transfer
