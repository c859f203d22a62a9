#include "update/update.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <string_view>

#include "bson/builder.h"
#include "bson/mutable_document.h"
#include "bson/type_names.h"
#include "bson/value.h"
#include "bson/append_element.h"

namespace docket::update {
namespace {

using bson::MutableValue;

Status FailedToParse(std::string message) { return Status(ErrorCode::kFailedToParse, std::move(message)); }
Status BadValue(std::string message) { return Status(ErrorCode::kBadValue, std::move(message)); }

bool IsPrefix(const bson::Path& a, const bson::Path& b) {
  if (a.size() > b.size()) return false;
  return std::equal(a.begin(), a.end(), b.begin());
}

// "$" -> "", "$[]" -> "", "$[x]" -> "x"; nullopt for any other component.
std::optional<std::string> PositionalIdentifier(const std::string& part) {
  if (part == "$" || part == "$[]") return std::string();
  if (part.size() > 3 && part.rfind("$[", 0) == 0 && part.back() == ']') return part.substr(2, part.size() - 3);
  return std::nullopt;
}

// Checks one update path; records the $[<id>] identifiers it uses.
Status ValidateUpdatePath(const Op& op, const ArrayFilters* filters, std::set<std::string>* used,
                          bool* positional) {
  if (op.dotted.empty()) return FailedToParse("An empty update path is not valid.");
  int dollars = 0;
  for (size_t i = 0; i < op.path.size(); ++i) {
    const std::string& part = op.path[i];
    if (part.empty()) {
      return FailedToParse("The update path '" + op.dotted + "' contains an empty field name, which is not allowed.");
    }
    if (part[0] != '$') continue;
    auto id = PositionalIdentifier(part);
    if (!id) {
      return Status(ErrorCode::kDollarPrefixedFieldName, "The dollar ($) prefixed field '" + part + "' in '" +
                                                             op.dotted + "' is not valid for storage.");
    }
    if (i == 0) {
      return BadValue("Cannot have positional (i.e. '$') element in the first position in path '" + op.dotted + "'");
    }
    *positional = true;
    if (part == "$" && ++dollars > 1) {
      return BadValue("Too many positional (i.e. '$') elements found in path '" + op.dotted + "'");
    }
    if (!id->empty()) {
      if (filters == nullptr || !filters->Has(*id)) {
        return BadValue("No array filter found for identifier '" + *id + "' in path '" + op.dotted + "'");
      }
      used->insert(*id);
    }
  }
  return Status::OK();
}

// What positional path expansion needs besides the document.
struct Expansion {
  size_t matched_position;
  const ArrayFilters* filters;
};

// Replaces $, $[] and $[<id>] in `pattern` (from component i on) with the
// indexes they select in the current document, appending concrete paths.
Status Expand(MutableValue* node, const bson::Path& pattern, size_t i, bson::Path* prefix, const Expansion& x,
              std::vector<bson::Path>* out) {
  if (i == pattern.size()) {
    out->push_back(*prefix);
    return Status::OK();
  }
  const std::string& part = pattern[i];
  auto id = PositionalIdentifier(part);
  if (!id) {
    prefix->push_back(part);
    Status s = Expand(node != nullptr ? node->Child(part) : nullptr, pattern, i + 1, prefix, x, out);
    prefix->pop_back();
    return s;
  }
  std::string where = bson::JoinPath(*prefix, prefix->size());
  if (part == "$" && (x.matched_position == bson::kNoPosition || node == nullptr)) {
    return BadValue("The positional operator did not find the match needed from the query.");
  }
  if (node == nullptr) {
    return BadValue("The path '" + where + "' must exist in the document in order to apply array updates.");
  }
  if (node->type != BSON_TYPE_ARRAY) {
    std::string scratch;
    bson_iter_t it;
    node->Iter(&scratch, &it);
    return BadValue("Cannot apply array updates to non-array element " + bson::FieldToJson(prefix->back(), it));
  }
  std::vector<size_t> indexes;
  if (part == "$") {
    indexes.push_back(x.matched_position);
  } else {
    std::string scratch;
    for (size_t k = 0; k < node->children.size(); ++k) {
      if (!id->empty()) {
        bson_iter_t element;
        node->children[k].value.Iter(&scratch, &element);
        if (!x.filters->Matches(*id, element)) continue;
      }
      indexes.push_back(k);
    }
  }
  for (size_t k : indexes) {
    prefix->push_back(std::to_string(k));
    MutableValue* child = k < node->children.size() ? &node->children[k].value : nullptr;
    Status s = Expand(child, pattern, i + 1, prefix, x, out);
    prefix->pop_back();
    if (!s.ok()) return s;
  }
  return Status::OK();
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<Update> Update::Compile(const Document& spec, Mode mode, const std::vector<Document>& array_filters,
                              query::StringOrderPtr strings) {
  Update u;
  u.strings_ = strings;
  if (!array_filters.empty()) {
    auto filters = ArrayFilters::Compile(array_filters, strings);
    if (!filters.ok()) return filters.status();
    u.array_filters_ = std::make_shared<const ArrayFilters>(std::move(filters).value());
  }
  bson_iter_t it;
  spec.Iterate(&it);
  bool first = true;
  bool operators = false;
  std::set<std::string> used_identifiers;
  while (bson_iter_next(&it)) {
    std::string_view name(bson_iter_key(&it), bson_iter_key_len(&it));
    bool is_op = !name.empty() && name[0] == '$';
    if (first) {
      operators = is_op;
      first = false;
    }
    if (!operators) {
      if (is_op) {
        return Status(ErrorCode::kDollarPrefixedFieldName,
                      "The dollar ($) prefixed field '" + std::string(name) + "' in '" + std::string(name) +
                          "' is not valid for storage.");
      }
      continue;
    }
    auto kind = is_op ? OpKindFromName(name) : std::nullopt;
    if (!kind) {
      return FailedToParse("Unknown modifier: " + std::string(name) +
                           ". Expected a valid update modifier or pipeline-style update specified as an array");
    }
    if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT) {
      return FailedToParse("Modifiers operate on fields but we found type " +
                           std::string(bson::TypeAlias(bson_iter_type(&it))) +
                           " instead. For example: {$mod: {<field>: ...}} not {" + std::string(name) + ": " +
                           bson::ValueToJson(it) + "}");
    }
    bson_iter_t field;
    bson_iter_recurse(&it, &field);
    while (bson_iter_next(&field)) {
      auto op = ParseOp(*kind, name, field, u.strings_.get());
      if (!op.ok()) return op.status();
      DOCKET_RETURN_IF_ERROR(ValidateUpdatePath(*op, u.array_filters_.get(), &used_identifiers, &u.positional_));
      if (op->kind == OpKind::kRename && op->to_dotted.empty()) return FailedToParse("An empty update path is not valid.");
      u.ops_.push_back(std::move(op).value());
    }
  }
  if (operators && mode == Mode::kReplacementOnly) {
    return FailedToParse("the replacement document must not contain atomic operators");
  }
  if (!operators && mode == Mode::kOperatorsOnly) {
    return FailedToParse("the update document must contain atomic operators");
  }
  if (u.array_filters_ != nullptr) {
    for (const std::string& id : u.array_filters_->Identifiers()) {
      if (!used_identifiers.count(id)) {
        return FailedToParse("The array filter for identifier '" + id + "' was not used in the update " +
                             spec.ToJson());
      }
    }
  }
  if (!operators) {
    u.is_replacement_ = true;
    u.replacement_ = spec;
    return u;
  }
  std::sort(u.ops_.begin(), u.ops_.end(), [](const Op& a, const Op& b) { return a.path < b.path; });
  // Every path an operator touches ($rename touches two) must be independent.
  std::vector<std::pair<bson::Path, const std::string*>> touched;
  for (const Op& op : u.ops_) {
    touched.emplace_back(op.path, &op.dotted);
    if (op.kind == OpKind::kRename) touched.emplace_back(op.to_path, &op.to_dotted);
  }
  std::sort(touched.begin(), touched.end());
  for (size_t i = 0; i + 1 < touched.size(); ++i) {
    if (IsPrefix(touched[i].first, touched[i + 1].first)) {
      return Status(ErrorCode::kConflictingUpdateOperators,
                    "Updating the path '" + *touched[i + 1].second + "' would create a conflict at '" +
                        *touched[i].second + "'");
    }
  }
  return u;
}

Result<Update> Update::CompilePipeline(const std::vector<Document>& stages, const Document& let,
                                      const std::vector<Document>& array_filters, query::StringOrderPtr strings) {
  if (!array_filters.empty()) return FailedToParse("arrayFilters may not be specified for pipeline-style updates");
  auto pipeline = PipelineUpdate::Compile(stages, let, strings);
  if (!pipeline.ok()) return pipeline.status();
  Update u;
  u.pipeline_ = std::move(pipeline).value();
  return u;
}

Result<Document> Update::ApplyPipeline(const Document& doc, bool is_insert) const {
  auto result = pipeline_->Apply(doc);
  if (!result.ok()) return result.status();
  bson_iter_t old_id, new_id;
  bool had_id = doc.Find("_id", &old_id);
  bool has_new_id = result->Find("_id", &new_id);
  if (had_id && has_new_id && !is_insert &&
      (bson::CompareValues(old_id, new_id) != 0 || bson_iter_type(&old_id) != bson_iter_type(&new_id))) {
    return Status(ErrorCode::kImmutableField,
                  "After applying the update, the (immutable) field '_id' was found to have been altered to " +
                      bson::FieldToJson("_id", new_id));
  }
  // _id first, and kept when the pipeline dropped it.
  bson::Builder out;
  if (has_new_id) docket::bson::AppendElement(out.get(), "_id", 3, &new_id);
  else if (had_id) docket::bson::AppendElement(out.get(), "_id", 3, &old_id);
  bson_iter_t it;
  result->Iterate(&it);
  while (bson_iter_next(&it)) {
    if (std::strcmp(bson_iter_key(&it), "_id") == 0) continue;
    docket::bson::AppendElement(out.get(), bson_iter_key(&it), static_cast<int>(bson_iter_key_len(&it)), &it);
  }
  return out.Finish();
}

Result<Document> Update::ApplyReplacement(const Document& doc, bool is_insert) const {
  bson_iter_t old_id;
  bool had_id = doc.Find("_id", &old_id);
  // The replacement keeps the stored _id, first.
  bson::Builder out;
  bson_iter_t new_id;
  bool replacement_has_id = replacement_.Find("_id", &new_id);
  if (had_id) {
    if (replacement_has_id && !is_insert && bson::CompareValues(old_id, new_id) != 0) {
      return Status(ErrorCode::kImmutableField,
                    "After applying the update, the (immutable) field '_id' was found to have been altered to " +
                        bson::FieldToJson("_id", new_id));
    }
    docket::bson::AppendElement(out.get(), "_id", 3, replacement_has_id && is_insert ? &new_id : &old_id);
  } else if (replacement_has_id) {
    docket::bson::AppendElement(out.get(), "_id", 3, &new_id);
  }
  bson_iter_t it;
  replacement_.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (std::strcmp(bson_iter_key(&it), "_id") == 0) continue;
    docket::bson::AppendElement(out.get(), bson_iter_key(&it), static_cast<int>(bson_iter_key_len(&it)), &it);
  }
  return out.Finish();
}

Result<Document> Update::ApplyOperators(const Document& doc, bool is_insert, size_t matched_position) const {
  MutableValue root = bson::ParseDocument(doc.data(), doc.size());
  ApplyEnv env{&doc, is_insert, NowMillis()};
  Expansion expansion{matched_position, array_filters_.get()};
  std::vector<std::pair<bson::Path, size_t>> concrete_paths;  // (path, op index), when positional
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    if (!positional_ || op.kind == OpKind::kRename) {
      DOCKET_RETURN_IF_ERROR(ApplyOp(op, op.path, &root, env));
      if (positional_) concrete_paths.emplace_back(op.path, i);
      continue;
    }
    std::vector<bson::Path> paths;
    bson::Path prefix;
    DOCKET_RETURN_IF_ERROR(Expand(&root, op.path, 0, &prefix, expansion, &paths));
    for (const bson::Path& path : paths) {
      DOCKET_RETURN_IF_ERROR(ApplyOp(op, path, &root, env));
      concrete_paths.emplace_back(path, i);
    }
  }
  if (positional_) {
    // Two operators may not reach the same element through different patterns.
    std::sort(concrete_paths.begin(), concrete_paths.end());
    for (size_t i = 0; i + 1 < concrete_paths.size(); ++i) {
      const auto& [a, op_a] = concrete_paths[i];
      const auto& [b, op_b] = concrete_paths[i + 1];
      if (op_a != op_b && IsPrefix(a, b)) {
        return Status(ErrorCode::kConflictingUpdateOperators,
                      "Update created a conflict at '" + bson::JoinPath(b, b.size()) + "'");
      }
    }
  }
  Document result = Document::FromTrustedBytes(root.ToBytes());
  bson_iter_t old_id, new_id;
  bool had_id = doc.Find("_id", &old_id);
  bool has_new_id = result.Find("_id", &new_id);
  if (had_id && !is_insert &&
      (!has_new_id || bson::CompareValues(old_id, new_id) != 0 || bson_iter_type(&old_id) != bson_iter_type(&new_id))) {
    return Status(ErrorCode::kImmutableField,
                  "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  return result;
}

Result<Document> Update::Apply(const Document& doc, bool is_insert, size_t matched_position, bool* changed) const {
  auto result = pipeline_ ? ApplyPipeline(doc, is_insert)
                : is_replacement_ ? ApplyReplacement(doc, is_insert)
                                  : ApplyOperators(doc, is_insert, matched_position);
  if (!result.ok()) return result.status();
  *changed = result->bytes() != doc.bytes();
  return result;
}

}  // namespace docket::update
