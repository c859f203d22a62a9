// `docket import`: mongoimport's job and command line, against Docket or any
// MongoDB server. Reads Extended JSON (one document after another, or a
// --jsonArray), CSV or TSV from a file or standard input (gzip or plain)
// and writes the documents to one collection.
//
// Every input record that cannot become a document is reported on standard
// error as "line N: why" and counted; so is every document the server
// refuses. Without --stopOnError the rest is imported; with it the import
// stops there, after writing what came before. The last line says
// "N document(s) imported successfully. M document(s) failed to import."
// Exit code: 0 when the input was read whole and the import was not stopped
// (documents the server refused, such as duplicate _ids, are counted but, as
// with mongoimport, do not fail the run); 1 when an input record was bad,
// the import stopped at an error, or it could not run at all.
#pragma once

#include <string>

#include "tools/docket/transfer/command_flags.h"

namespace docket::transfer {

struct ImportFlags {
  CommonFlags common;
  std::string db;          // empty: "test", as mongoimport
  std::string collection;  // empty: the file's name without its last extension
  std::string file;        // --file; empty: the positional file, else standard input
  std::string positional_file;
  std::string type = "json";  // json, csv or tsv
  bool json_array = false;
  bool header_line = false;  // csv/tsv: the first line names the fields
  std::string fields;        // csv/tsv: comma-separated names
  bool fields_given = false;
  std::string field_file;  // csv/tsv: names, one a line
  bool field_file_given = false;
  bool columns_have_types = false;   // names are name.type(arg)
  std::string parse_grace = "stop";  // autoCast, skipField, skipRow, stop
  bool ignore_blanks = false;        // csv/tsv: empty cells add no field
  bool use_array_index_fields = false;
  bool drop = false;
  std::string mode;           // insert, upsert, merge, delete; empty: insert (upsert with upsert_fields)
  std::string upsert_fields;  // comma-separated
  bool upsert = false;        // deprecated --upsert: --mode upsert
  bool stop_on_error = false;
  bool maintain_insertion_order = false;
  bool bypass_document_validation = false;
  int insertion_workers = 1;  // only 1 is supported
};

// Registers the subcommand and its flags on `app`.
CLI::App* AddImportCommand(CLI::App& app, ImportFlags* flags);
// Returns the exit code (see above).
int RunImport(const ImportFlags& flags);

}  // namespace docket::transfer
