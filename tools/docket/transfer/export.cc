#include "tools/docket/transfer/export.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "tools/docket/transfer/bson_value.h"
#include "tools/docket/transfer/byte_stream.h"
#include "tools/docket/transfer/connection.h"
#include "tools/docket/transfer/csv.h"
#include "tools/docket/transfer/export_format.h"
#include "tools/docket/transfer/progress.h"
#include "tools/docket/transfer/typed_columns.h"

namespace docket::transfer {
namespace {

// Shell-style JSON as people type it on a command line ({x: {$gt: 1}},
// 'text'): bare keys quoted, single-quoted strings double-quoted.
std::string QuoteBareKeys(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '"') {
      out.push_back(s[i++]);
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) out.push_back(s[i++]);
        out.push_back(s[i++]);
      }
      if (i < s.size()) out.push_back(s[i++]);
    } else if (c == '\'') {
      out.push_back('"');
      ++i;
      while (i < s.size() && s[i] != '\'') {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\'') {
          out.push_back('\'');
          i += 2;
          continue;
        }
        if (s[i] == '"') out.push_back('\\');
        if (s[i] == '\\' && i + 1 < s.size()) out.push_back(s[i++]);
        out.push_back(s[i++]);
      }
      out.push_back('"');
      if (i < s.size()) ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$') {
      size_t end = i;
      while (end < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_' || s[end] == '$' || s[end] == '.'))
        ++end;
      size_t next = end;
      while (next < s.size() && std::isspace(static_cast<unsigned char>(s[next]))) ++next;
      const std::string word = s.substr(i, end - i);
      out += next < s.size() && s[next] == ':' ? "\"" + word + "\"" : word;
      i = end;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// A --query or --sort document: Extended JSON, or the shell-style shorthand.
BsonPtr ParseJsonArgument(const std::string& text, const std::string& what) {
  try {
    return FromJson(text, what);
  } catch (const TransferError& strict) {
    try {
      return FromJson(QuoteBareKeys(text), what);
    } catch (const TransferError&) {
      throw strict;
    }
  }
}

std::vector<std::string> SplitComma(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  if (!list.empty() && list.back() == ',') out.emplace_back();
  return out;
}

std::string ReadWholeFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TransferError("cannot read the " + what + " " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// mongoexport's projection for --fields: _id and the top-level field of
// every path ("a.b" fetches "a"); "a.$" positional projections pass as they are.
BsonPtr Projection(const std::vector<std::string>& fields) {
  BsonPtr projection = NewBson();
  std::set<std::string> seen = {"_id"};
  BSON_APPEND_INT32(projection.get(), "_id", 1);
  for (std::string field : fields) {
    const size_t last_dot = field.rfind('.');
    if (last_dot != std::string::npos && field.substr(last_dot + 1) != "$") field = field.substr(0, field.find('.'));
    if (seen.insert(field).second) BSON_APPEND_INT32(projection.get(), field.c_str(), 1);
  }
  return projection;
}

struct ExportPlan {
  std::vector<std::string> fields;  // as given (--fields or --fieldFile)
  bool csv = false;
  JsonForm form = JsonForm::kRelaxed;
  BsonPtr filter;
  BsonPtr find_options;
};

// Checks the flags as mongoexport does, before connecting.
ExportPlan Plan(ExportFlags* f) {
  ExportPlan plan;
  if (f->db.empty()) f->db = "test";
  if (f->collection.empty()) throw TransferError("must specify a collection (--collection)");
  std::string type = f->type;
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type.empty()) throw TransferError("--type cannot be empty");
  if (type != "json" && type != "csv")
    throw TransferError("invalid output type '" + f->type + "', choose 'json' or 'csv'");
  plan.csv = type == "csv";
  if (f->json_format != "relaxed" && f->json_format != "canonical")
    throw TransferError("invalid JSON format '" + f->json_format + "', choose 'relaxed' or 'canonical'");
  plan.form = f->json_format == "canonical" ? JsonForm::kCanonical : JsonForm::kRelaxed;
  if (!f->query.empty() && !f->query_file.empty())
    throw TransferError("either --query or --queryFile can be specified as a query option");
  if (!f->fields.empty() && !f->field_file.empty()) throw TransferError("give --fields or --fieldFile, not both");
  if (!f->fields.empty()) plan.fields = SplitComma(f->fields);
  if (!f->field_file.empty()) plan.fields = ReadFieldFile(f->field_file);
  if (plan.csv && plan.fields.empty()) throw TransferError("CSV mode requires a field list (--fields or --fieldFile)");

  std::string query = f->query;
  if (!f->query_file.empty()) query = ReadWholeFile(f->query_file, "query file");
  plan.filter = query.empty() ? NewBson() : ParseJsonArgument(query, "--query");
  plan.find_options = NewBson();
  if (!f->sort.empty()) {
    BsonPtr sort = ParseJsonArgument(f->sort, "--sort");
    BSON_APPEND_DOCUMENT(plan.find_options.get(), "sort", sort.get());
  }
  if (f->skip > 0) BSON_APPEND_INT64(plan.find_options.get(), "skip", f->skip);
  if (f->limit > 0) BSON_APPEND_INT64(plan.find_options.get(), "limit", f->limit);
  if (!plan.fields.empty()) {
    BsonPtr projection = Projection(plan.fields);
    BSON_APPEND_DOCUMENT(plan.find_options.get(), "projection", projection.get());
  }
  return plan;
}

bool CollectionExists(Connection& connection, const std::string& db, const std::string& collection) {
  for (const BsonPtr& info : connection.Collections(db))
    if (StringField(info.get(), "name") == collection) return true;
  return false;
}

// The _id of `doc` as Extended JSON, to name a document in a message.
std::string IdText(const bson_t* doc) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, "_id")) return "(none)";
  BsonPtr id = NewBson();
  bson_append_iter(id.get(), "_id", 3, &it);
  try {
    return ToJson(id.get(), JsonForm::kCanonical);
  } catch (const TransferError&) {
    return "(not printable)";
  }
}

// Writes the documents in mongoexport's layout for the chosen format.
class DocumentWriter {
 public:
  DocumentWriter(ByteWriter* out, const ExportFlags& flags, const ExportPlan& plan)
      : out_(out), flags_(flags), plan_(plan) {
    if (plan.csv) {
      for (const std::string& field : plan.fields) {
        // "a.$" projects the matched element, whose column is "a".
        const size_t dot = field.rfind('.');
        columns_.push_back(dot != std::string::npos && field.substr(dot + 1) == "$" ? field.substr(0, dot) : field);
      }
    }
  }

  void Header() {
    if (plan_.csv && !flags_.no_header_line) out_->Write(CsvRecord(columns_));
    if (!plan_.csv && flags_.json_array) out_->Write("[");
  }

  void Document(const bson_t* doc) {
    if (plan_.csv) {
      std::vector<std::string> cells;
      cells.reserve(columns_.size());
      for (const std::string& column : columns_) cells.push_back(CsvCellAt(doc, column));
      out_->Write(CsvRecord(cells));
    } else {
      std::string text;
      try {
        text = CompactJson(ToJson(doc, plan_.form));
      } catch (const TransferError& e) {
        throw TransferError("the document with _id " + IdText(doc) + ": " + e.what());
      }
      if (flags_.pretty) text = IndentJson(text);
      if (flags_.json_array || flags_.pretty) {
        if (count_ > 0) out_->Write(flags_.json_array ? (flags_.pretty ? ",\n" : ",") : "\n");
        out_->Write(text);
      } else {
        out_->Write(text + "\n");
      }
    }
    ++count_;
  }

  void Footer() {
    if (plan_.csv) return;
    if (flags_.json_array) out_->Write("]\n");
    if (flags_.pretty) out_->Write("\n");
  }

  uint64_t count() const { return count_; }

 private:
  ByteWriter* out_;
  const ExportFlags& flags_;
  const ExportPlan& plan_;
  std::vector<std::string> columns_;
  uint64_t count_ = 0;
};

std::unique_ptr<ByteWriter> OpenOutput(const std::string& path) {
  if (path.empty() || path == "-") return std::make_unique<ByteWriter>("-", false);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) throw TransferError("cannot create the directory " + parent.string() + ": " + error.message());
  return std::make_unique<ByteWriter>(path, false);
}

}  // namespace

CLI::App* AddExportCommand(CLI::App& app, ExportFlags* flags) {
  CLI::App* cmd = app.add_subcommand("export", "write a collection as JSON or CSV, as mongoexport");
  AddCommonFlags(cmd, &flags->common);
  cmd->add_option("--db,-d", flags->db, "database (default: test)");
  cmd->add_option("--collection,-c", flags->collection, "collection to export (required)");
  cmd->add_option("--out,-o", flags->out, "output file (default: standard output)");
  cmd->add_option("--type", flags->type, "output format: json or csv")->capture_default_str();
  cmd->add_option("--fields,-f", flags->fields,
                  "comma-separated field paths, e.g. -f name,address.city (csv needs them)");
  cmd->add_option("--fieldFile", flags->field_file, "file with field paths, one a line");
  cmd->add_option("--query,-q", flags->query, "Extended JSON filter, e.g. '{\"a\": {\"$gte\": 3}}'");
  cmd->add_option("--queryFile", flags->query_file, "file holding the --query filter");
  cmd->add_option("--sort", flags->sort, "Extended JSON sort document, e.g. '{\"a\": 1}'");
  cmd->add_option("--skip", flags->skip, "documents to skip")->check(CLI::NonNegativeNumber);
  cmd->add_option("--limit", flags->limit, "most documents to export (0: all)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--jsonArray", flags->json_array, "write one JSON array rather than one document a line");
  cmd->add_flag("--pretty", flags->pretty, "indent the JSON for people to read");
  cmd->add_option("--jsonFormat", flags->json_format, "Extended JSON form: relaxed or canonical")
      ->capture_default_str();
  cmd->add_flag("--noHeaderLine", flags->no_header_line, "csv without the line of field names");
  cmd->add_flag("--assertExists", flags->assert_exists, "fail when the collection does not exist");
  return cmd;
}

int RunExport(const ExportFlags& given) {
  ExportFlags flags = given;
  return RunCommandBody(flags.common, [&] {
    const ExportPlan plan = Plan(&flags);
    Connection connection(flags.common.connection.Uri());
    const std::string ns = flags.db + "." + flags.collection;
    if (!CollectionExists(connection, flags.db, flags.collection)) {
      if (flags.assert_exists) throw TransferError("collection " + ns + " does not exist");
      OpenOutput(flags.out)->Close();
      if (!flags.common.quiet) std::fprintf(stderr, "exported 0 records\n");
      return 0;
    }
    int64_t total =
        std::max<int64_t>(0, connection.CountMatching(flags.db, flags.collection, plan.filter.get()) - flags.skip);
    if (flags.limit > 0) total = std::min<int64_t>(total, flags.limit);

    std::unique_ptr<ByteWriter> out = OpenOutput(flags.out);
    DocumentWriter writer(out.get(), flags, plan);
    Progress progress(ns, static_cast<uint64_t>(total));
    writer.Header();
    connection.Find(flags.db, flags.collection, plan.filter.get(), plan.find_options.get(), [&](const bson_t* doc) {
      writer.Document(doc);
      progress.Add(1);
    });
    writer.Footer();
    out->Close();
    progress.Finish();
    if (!flags.common.quiet)
      std::fprintf(stderr, "exported %llu record%s\n", static_cast<unsigned long long>(writer.count()),
                   writer.count() == 1 ? "" : "s");
    return 0;
  });
}

}  // namespace docket::transfer
