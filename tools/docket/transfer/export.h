// `docket export`: mongoexport's job and command line, against Docket or any
// MongoDB server. Writes one collection's documents as Extended JSON (one a
// line, or a --jsonArray) or as CSV columns (--type csv --fields a,b.c).
#pragma once

#include <string>

#include "tools/docket/transfer/command_flags.h"

namespace docket::transfer {

struct ExportFlags {
  CommonFlags common;
  std::string db;             // empty: "test", as mongoexport
  std::string collection;     // required
  std::string out;            // file; empty or "-": standard output
  std::string type = "json";  // json or csv
  std::string fields;         // comma-separated field paths (required for csv, or field_file)
  std::string field_file;     // one field path a line
  std::string query;          // Extended JSON filter
  std::string query_file;     // a file holding the filter
  std::string sort;           // Extended JSON sort document
  long long skip = 0;
  long long limit = 0;  // 0: all
  bool json_array = false;
  bool pretty = false;
  std::string json_format = "relaxed";  // or canonical
  bool no_header_line = false;          // csv without the header line
  bool assert_exists = false;           // fail when the collection does not exist
};

// Registers the subcommand and its flags on `app`.
CLI::App* AddExportCommand(CLI::App& app, ExportFlags* flags);
// Returns the exit code (0 done, 1 failed with a message on standard error).
int RunExport(const ExportFlags& flags);

}  // namespace docket::transfer
