#include "tools/docket/transfer/import.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "tools/docket/transfer/bson_value.h"
#include "tools/docket/transfer/byte_stream.h"
#include "tools/docket/transfer/connection.h"
#include "tools/docket/transfer/import_reader.h"
#include "tools/docket/transfer/import_writer.h"
#include "tools/docket/transfer/progress.h"
#include "tools/docket/transfer/row_document.h"
#include "tools/docket/transfer/text_input.h"
#include "tools/docket/transfer/typed_columns.h"

namespace docket::transfer {
namespace {

// The checked flags of one import.
struct ImportPlan {
  std::string path;  // "-": standard input
  InputOptions input;
  WriteOptions write;
};

std::vector<std::string> SplitComma(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t comma; (comma = list.find(',', start)) != std::string::npos; start = comma + 1)
    out.push_back(list.substr(start, comma - start));
  out.push_back(list.substr(start));
  return out;
}

// Checks the flags as mongoimport does, before reading or connecting.
ImportPlan Plan(ImportFlags* f) {
  ImportPlan plan;
  if (f->db.empty()) f->db = "test";
  std::string type = f->type;
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type.empty() || type == "json")
    plan.input.type = InputType::kJson;
  else if (type == "csv")
    plan.input.type = InputType::kCsv;
  else if (type == "tsv")
    plan.input.type = InputType::kTsv;
  else
    throw TransferError("unknown type " + f->type + " (json, csv or tsv)");

  if (plan.input.type != InputType::kJson) {
    if (!f->header_line) {
      if (!f->fields_given && !f->field_file_given)
        throw TransferError("must specify --fields, --fieldFile or --headerline to import this file type");
      if (f->field_file_given && f->field_file.empty()) throw TransferError("--fieldFile cannot be empty string");
      if (f->fields_given && f->field_file_given) throw TransferError("incompatible options: --fields and --fieldFile");
    } else {
      if (f->fields_given) throw TransferError("incompatible options: --fields and --headerline");
      if (f->field_file_given) throw TransferError("incompatible options: --fieldFile and --headerline");
    }
    const std::optional<ParseGrace> grace = ParseGraceNamed(f->parse_grace);
    if (!grace)
      throw TransferError("invalid parse grace: " + f->parse_grace + " (autoCast, skipField, skipRow or stop)");
    plan.input.row.grace = *grace;
  } else {
    if (f->header_line) throw TransferError("cannot use --headerline when input type is JSON");
    if (f->fields_given) throw TransferError("cannot use --fields when input type is JSON");
    if (f->field_file_given) throw TransferError("cannot use --fieldFile when input type is JSON");
    if (f->ignore_blanks) throw TransferError("cannot use --ignoreBlanks when input type is JSON");
    if (f->columns_have_types) throw TransferError("cannot use --columnsHaveTypes when input type is JSON");
  }
  plan.input.row.ignore_blanks = f->ignore_blanks;
  plan.input.row.array_indexes = f->use_array_index_fields;

  if (f->upsert) f->mode = "upsert";
  if (!f->upsert_fields.empty()) {
    if (f->mode.empty()) f->mode = "upsert";
    if (f->mode == "insert") throw TransferError("cannot use --upsertFields with --mode=insert");
    plan.write.upsert_fields = SplitComma(f->upsert_fields);
    try {
      ValidateFieldNames(plan.write.upsert_fields, f->use_array_index_fields);
    } catch (const TransferError& e) {
      throw TransferError(std::string("invalid --upsertFields argument: ") + e.what());
    }
  }
  if (f->mode.empty() || f->mode == "insert")
    plan.write.mode = ImportMode::kInsert;
  else if (f->mode == "upsert")
    plan.write.mode = ImportMode::kUpsert;
  else if (f->mode == "merge")
    plan.write.mode = ImportMode::kMerge;
  else if (f->mode == "delete")
    plan.write.mode = ImportMode::kDelete;
  else
    throw TransferError("invalid --mode argument: " + f->mode + " (insert, upsert, merge or delete)");
  // As mongoimport: other modes keep the input's order, which stops at errors.
  const bool ordered = plan.write.mode != ImportMode::kInsert || f->maintain_insertion_order;
  plan.write.ordered = ordered || f->stop_on_error;
  plan.write.stop_on_error = ordered || f->stop_on_error;
  plan.write.bypass_validation = f->bypass_document_validation;
  plan.input.json_array = f->json_array;
  plan.input.header_line = f->header_line;
  plan.input.columns_have_types = f->columns_have_types;
  plan.input.stop_on_error = plan.write.stop_on_error;
  plan.input.quiet = f->common.quiet;
  if (f->insertion_workers != 1)
    throw TransferError("--numInsertionWorkers " + std::to_string(f->insertion_workers) +
                        ": docket import writes from one worker; leave the option out or give 1");

  if (!f->file.empty() && !f->positional_file.empty())
    throw TransferError("cannot use both --file and a positional argument to set the input file");
  const std::string file = f->file.empty() ? f->positional_file : f->file;
  plan.path = file.empty() ? "-" : file;
  if (f->collection.empty()) {
    if (file.empty() || file == "-")
      throw TransferError("no collection specified: give --collection (standard input has no file name to use)");
    std::string base = std::filesystem::path(file).filename().string();
    const size_t dot = base.rfind('.');
    if (dot != std::string::npos) base = base.substr(0, dot);
    if (!f->common.quiet) std::fprintf(stderr, "no collection specified; using the file name: %s\n", base.c_str());
    f->collection = base;
  }
  if (f->collection.empty() || f->collection.find('$') != std::string::npos ||
      f->collection.find('\0') != std::string::npos)
    throw TransferError("invalid collection name \"" + f->collection + "\"");

  if (plan.input.type != InputType::kJson && !f->header_line) {
    const std::vector<std::string> names = f->fields_given ? SplitFieldList(f->fields) : ReadFieldFile(f->field_file);
    plan.input.columns = ColumnsFromNames(names, f->columns_have_types, f->use_array_index_fields);
  }
  return plan;
}

// The size of a plain input file, for the progress bar; 0 when unknown
// (standard input, or gzip, whose decompressed size is not known ahead).
uint64_t InputBytes(const std::string& path) {
  if (path == "-") return 0;
  std::ifstream in(path, std::ios::binary);
  char magic[2] = {0, 0};
  in.read(magic, 2);
  if (in.gcount() == 2 && magic[0] == '\x1f' && magic[1] == '\x8b') return 0;
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<uint64_t>(size);
}

void DropCollection(Connection& connection, const std::string& db, const std::string& collection) {
  mongoc_collection_t* coll = mongoc_client_get_collection(connection.raw(), db.c_str(), collection.c_str());
  bson_error_t error;
  const bool ok = mongoc_collection_drop_with_opts(coll, nullptr, &error);
  mongoc_collection_destroy(coll);
  // A collection that is not there is dropped already (code 26).
  if (!ok && error.code != 26 && std::strstr(error.message, "ns not found") == nullptr)
    throw TransferError("dropping " + db + "." + collection + ": " + DescribeError(error));
}

}  // namespace

CLI::App* AddImportCommand(CLI::App& app, ImportFlags* flags) {
  CLI::App* cmd = app.add_subcommand("import", "read JSON, CSV or TSV into a collection, as mongoimport");
  AddCommonFlags(cmd, &flags->common);
  cmd->add_option("--db,-d", flags->db, "database (default: test)");
  cmd->add_option("--collection,-c", flags->collection, "collection (default: the file's name without extension)");
  cmd->add_option("--file", flags->file, "file to import (default: standard input); gzip is read as well");
  cmd->add_option("file", flags->positional_file, "file to import, instead of --file");
  cmd->add_option("--type", flags->type, "input format: json, csv or tsv")->capture_default_str();
  cmd->add_flag("--jsonArray", flags->json_array, "the input is one JSON array of documents");
  cmd->add_flag("--headerline", flags->header_line, "csv/tsv: the first line names the fields");
  cmd->add_option("--fields,-f", flags->fields, "csv/tsv: comma-separated field names, e.g. -f name,address.city");
  cmd->add_option("--fieldFile", flags->field_file, "csv/tsv: file of field names, one a line");
  cmd->add_flag("--columnsHaveTypes", flags->columns_have_types,
                "csv/tsv: field names carry types, name.type(arg): auto, binary(base64|base32|hex), boolean, "
                "date(layout), date_go(layout), date_ms(layout), date_oracle(layout), decimal, double, int32, "
                "int64, string");
  cmd->add_option("--parseGrace", flags->parse_grace,
                  "a cell that does not fit its type: autoCast, skipField, skipRow or stop")
      ->capture_default_str();
  cmd->add_flag("--ignoreBlanks", flags->ignore_blanks, "csv/tsv: empty cells add no field");
  cmd->add_flag("--useArrayIndexFields", flags->use_array_index_fields,
                "csv/tsv: numeric parts of field names make arrays (tags.0,tags.1)");
  cmd->add_flag("--drop", flags->drop, "drop the collection first");
  cmd->add_option("--mode", flags->mode,
                  "insert (default), upsert (replace the match), merge ($set into the match) or delete");
  cmd->add_option("--upsertFields", flags->upsert_fields,
                  "comma-separated fields that find the match for upsert, merge and delete (default: _id)");
  cmd->add_flag("--upsert", flags->upsert, "deprecated: --mode upsert")->group("");
  cmd->add_flag("--stopOnError", flags->stop_on_error, "stop at the first bad record or refused document");
  cmd->add_flag("--maintainInsertionOrder", flags->maintain_insertion_order,
                "insert in input order (implies --stopOnError)");
  cmd->add_flag("--bypassDocumentValidation", flags->bypass_document_validation, "skip the collection's validator");
  cmd->add_option("--numInsertionWorkers,-j", flags->insertion_workers, "insertion workers (only 1 is supported)");
  cmd->callback([flags, cmd] {
    flags->fields_given = cmd->count("--fields") > 0;
    flags->field_file_given = cmd->count("--fieldFile") > 0;
  });
  return cmd;
}

int RunImport(const ImportFlags& given) {
  ImportFlags flags = given;
  return RunCommandBody(flags.common, [&] {
    const ImportPlan plan = Plan(&flags);
    ByteReader bytes(plan.path);
    Connection connection(flags.common.connection.Uri());
    const std::string ns = flags.db + "." + flags.collection;
    if (flags.drop) {
      if (!flags.common.quiet) std::fprintf(stderr, "dropping: %s\n", ns.c_str());
      DropCollection(connection, flags.db, flags.collection);
    }
    TextInput in(&bytes);
    ImportWriter writer(&connection, flags.db, flags.collection, plan.write);
    ImportReader importer(plan.input, &in, &writer);
    Progress progress(ns, InputBytes(plan.path), "bytes");
    const auto summary = [&] {
      progress.Finish();
      if (flags.common.quiet) return;
      const bool deleting = plan.write.mode == ImportMode::kDelete;
      std::fprintf(stderr, "%llu document(s) %s successfully. %llu document(s) failed to %s.\n",
                   static_cast<unsigned long long>(writer.succeeded()), deleting ? "deleted" : "imported",
                   static_cast<unsigned long long>(writer.failed() + importer.bad_records()),
                   deleting ? "delete" : "import");
      if (importer.skipped_rows() > 0)
        std::fprintf(stderr, "%llu row(s) skipped (--parseGrace skipRow).\n",
                     static_cast<unsigned long long>(importer.skipped_rows()));
    };
    try {
      importer.Run(&progress);
      writer.Flush();
    } catch (const TransferError&) {
      writer.Join();  // the batch in flight is counted too
      summary();      // what was written before the failure
      throw;
    }
    std::fflush(stdout);
    summary();
    return importer.stopped() || writer.stopped() || importer.bad_records() > 0 ? 1 : 0;
  });
}

}  // namespace docket::transfer
