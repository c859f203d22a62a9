#include "update/update.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "bson/mutable_document.h"
#include "bson/numeric.h"
#include "bson/type_names.h"
#include "bson/value.h"

namespace docket::update {
namespace {

using bson::MutableValue;


Status FailedToParse(std::string message) { return Status(ErrorCode::kFailedToParse, std::move(message)); }

bool IsPrefix(const bson::Path& a, const bson::Path& b) {
  if (a.size() > b.size()) return false;
  return std::equal(a.begin(), a.end(), b.begin());
}

Status ValidateUpdatePath(std::string_view dotted, const bson::Path& path) {
  if (dotted.empty()) return FailedToParse("An empty update path is not valid.");
  for (const std::string& part : path) {
    if (part.empty()) {
      return FailedToParse("The update path '" + std::string(dotted) + "' contains an empty field name, which is not allowed.");
    }
    if (part == "$" || part.rfind("$[", 0) == 0) {
      return Status(ErrorCode::kBadValue,
                    "positional update operators ($, $[], $[<id>]) are not supported by this version of Docket yet: '" +
                        std::string(dotted) + "'");
    }
    if (part[0] == '$') {
      return Status(ErrorCode::kDollarPrefixedFieldName,
                    "The dollar ($) prefixed field '" + part + "' in '" + std::string(dotted) +
                        "' is not valid for storage.");
    }
  }
  return Status::OK();
}

std::string IdForMessage(const Document& doc) {
  bson_iter_t id;
  if (!doc.Find("_id", &id)) return "{}";
  return bson::FieldToJson("_id", id);
}

}  // namespace

Result<Update> Update::Compile(const Document& spec, Mode mode) {
  Update u;
  bson_iter_t it;
  spec.Iterate(&it);
  bool first = true;
  bool operators = false;
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
    if (!is_op) {
      return FailedToParse("Unknown modifier: " + std::string(name) +
                           ". Expected a valid update modifier or pipeline-style update specified as an array");
    }
    OpKind kind;
    if (name == "$set") kind = OpKind::kSet;
    else if (name == "$unset") kind = OpKind::kUnset;
    else if (name == "$inc") kind = OpKind::kInc;
    else if (name == "$setOnInsert") kind = OpKind::kSetOnInsert;
    else if (name == "$mul" || name == "$min" || name == "$max" || name == "$rename" ||
             name == "$currentDate" || name == "$bit" || name == "$push" || name == "$addToSet" ||
             name == "$pop" || name == "$pull" || name == "$pullAll")
      return FailedToParse("The update operator " + std::string(name) +
                           " is not supported by this version of Docket yet");
    else
      return FailedToParse("Unknown modifier: " + std::string(name) +
                           ". Expected a valid update modifier or pipeline-style update specified as an array");
    if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT) {
      return FailedToParse("Modifiers operate on fields but we found type " +
                           std::string(bson::TypeAlias(bson_iter_type(&it))) + " instead. For example: {$mod: {<field>: ...}} not {" +
                           std::string(name) + ": " + bson::ValueToJson(it) + "}");
    }
    bson_iter_t field;
    bson_iter_recurse(&it, &field);
    while (bson_iter_next(&field)) {
      std::string dotted(bson_iter_key(&field), bson_iter_key_len(&field));
      bson::Path path = bson::SplitPath(dotted);
      DOCKET_RETURN_IF_ERROR(ValidateUpdatePath(dotted, path));
      if (kind == OpKind::kInc && !bson::IsNumber(bson_iter_type(&field))) {
        return Status(ErrorCode::kTypeMismatch,
                      "Cannot increment with non-numeric argument: " + bson::FieldToJson(dotted, field));
      }
      u.ops_.push_back({kind, std::move(path), std::move(dotted), bson::HoldValue(field)});
    }
  }
  if (operators && mode == Mode::kReplacementOnly) {
    return FailedToParse("the replacement document must not contain atomic operators");
  }
  if (!operators && mode == Mode::kOperatorsOnly) {
    return FailedToParse("the update document must contain atomic operators");
  }
  if (!operators) {
    u.is_replacement_ = true;
    u.replacement_ = spec;
    return u;
  }
  std::sort(u.ops_.begin(), u.ops_.end(), [](const Op& a, const Op& b) { return a.path < b.path; });
  for (size_t i = 0; i + 1 < u.ops_.size(); ++i) {
    const Op& a = u.ops_[i];
    const Op& b = u.ops_[i + 1];
    if (IsPrefix(a.path, b.path)) {
      return Status(ErrorCode::kConflictingUpdateOperators,
                    "Updating the path '" + b.dotted + "' would create a conflict at '" + a.dotted + "'");
    }
  }
  return u;
}

Result<Document> Update::Apply(const Document& doc, bool is_insert, bool* changed) const {
  bson_iter_t old_id;
  bool had_id = doc.Find("_id", &old_id);
  Document result;
  if (is_replacement_) {
    // The replacement keeps the stored _id, first.
    bson_t out = BSON_INITIALIZER;
    bson_iter_t new_id;
    bool replacement_has_id = replacement_.Find("_id", &new_id);
    if (had_id) {
      if (replacement_has_id && !is_insert && bson::CompareValues(old_id, new_id) != 0) {
        bson_destroy(&out);
        return Status(ErrorCode::kImmutableField,
                      "After applying the update, the (immutable) field '_id' was found to have been altered to " +
                          bson::FieldToJson("_id", new_id));
      }
      bson_append_iter(&out, "_id", 3, replacement_has_id && is_insert ? &new_id : &old_id);
    } else if (replacement_has_id) {
      bson_append_iter(&out, "_id", 3, &new_id);
    }
    bson_iter_t it;
    replacement_.Iterate(&it);
    while (bson_iter_next(&it)) {
      if (std::strcmp(bson_iter_key(&it), "_id") == 0) continue;
      bson_append_iter(&out, bson_iter_key(&it), static_cast<int>(bson_iter_key_len(&it)), &it);
    }
    result = Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(bson_get_data(&out)), out.len));
    bson_destroy(&out);
  } else {
    MutableValue root = bson::ParseDocument(doc.data(), doc.size());
    std::string scratch;
    for (const Op& op : ops_) {
      bson_iter_t operand;
      bson::IterHeldValue(op.value, &operand);
      switch (op.kind) {
        case OpKind::kSetOnInsert:
          if (!is_insert) break;
          [[fallthrough]];
        case OpKind::kSet:
          DOCKET_RETURN_IF_ERROR(bson::SetPath(&root, op.path, MutableValue::FromIter(operand)));
          break;
        case OpKind::kUnset:
          bson::UnsetPath(&root, op.path);
          break;
        case OpKind::kInc: {
          MutableValue* current = bson::FindPath(&root, op.path);
          if (current == nullptr) {
            DOCKET_RETURN_IF_ERROR(bson::SetPath(&root, op.path, MutableValue::FromIter(operand)));
            break;
          }
          bson_iter_t current_it;
          current->Iter(&scratch, &current_it);
          if (!bson::IsNumber(current->type)) {
            return Status(ErrorCode::kTypeMismatch,
                          "Cannot apply $inc to a value of non-numeric type. " + IdForMessage(doc) +
                              " has the field '" + op.path.back() + "' of non-numeric type " +
                              bson::TypeAlias(current->type));
          }
          auto sum = bson::AddNumbers(current_it, operand);
          if (!sum) {
            return Status(ErrorCode::kBadValue,
                          "Failed to apply $inc operations to current value (" + bson::ValueToJson(current_it) +
                              ") for document " + IdForMessage(doc) + ": integer overflow");
          }
          *current = std::move(*sum);
          break;
        }
      }
    }
    result = Document::FromTrustedBytes(root.ToBytes());
    bson_iter_t new_id;
    bool has_new_id = result.Find("_id", &new_id);
    if (had_id && !is_insert && (!has_new_id || bson::CompareValues(old_id, new_id) != 0 ||
                                 bson_iter_type(&old_id) != bson_iter_type(&new_id))) {
      return Status(ErrorCode::kImmutableField,
                    "Performing an update on the path '_id' would modify the immutable field '_id'");
    }
  }
  *changed = result.bytes() != doc.bytes();
  return result;
}

}  // namespace docket::update
