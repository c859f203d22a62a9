#include "tools/docket/transfer/row_document.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace docket::transfer {
namespace {

// A document under construction: values, documents and arrays in the order
// their first cell set them.
struct Node {
  enum class Kind { kValue, kDocument, kArray } kind = Kind::kDocument;
  CellValue value;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> children;  // array elements have no key

  Node* Find(const std::string& key) {
    for (auto& [k, child] : children)
      if (k == key) return child.get();
    return nullptr;
  }
};

std::unique_ptr<Node> Leaf(const CellValue& value) {
  auto node = std::make_unique<Node>();
  node->kind = Node::Kind::kValue;
  node->value = value;
  return node;
}

std::string SetInArray(const std::vector<std::string>& parts, size_t i, const CellValue& value, Node* array);

// Sets parts[i..] below the document `doc`.
std::string SetInDocument(const std::vector<std::string>& parts, size_t i, const CellValue& value, Node* doc,
                          bool array_indexes) {
  if (i + 1 == parts.size()) {
    doc->children.emplace_back(parts[i], Leaf(value));
    return "";
  }
  size_t index;
  const bool next_is_index = array_indexes && IsNaturalNumber(parts[i + 1], &index);
  const Node::Kind wanted = next_is_index ? Node::Kind::kArray : Node::Kind::kDocument;
  Node* existing = doc->Find(parts[i]);
  if (existing != nullptr && existing->kind != wanted)
    return "\"" + parts[i] + "\" is already set to " +
           (existing->kind == Node::Kind::kValue   ? "a value"
            : existing->kind == Node::Kind::kArray ? "an array"
                                                   : "a document");
  std::unique_ptr<Node> fresh;
  Node* target = existing;
  if (target == nullptr) {
    fresh = std::make_unique<Node>();
    fresh->kind = wanted;
    target = fresh.get();
  }
  std::string error = next_is_index ? SetInArray(parts, i + 1, value, target)
                                    : SetInDocument(parts, i + 1, value, target, array_indexes);
  if (error.empty() && fresh) doc->children.emplace_back(parts[i], std::move(fresh));
  return error;
}

std::string SetInArray(const std::vector<std::string>& parts, size_t i, const CellValue& value, Node* array) {
  size_t index;
  if (!IsNaturalNumber(parts[i], &index)) return "\"" + parts[i] + "\" is not an array index";
  const size_t size = array->children.size();
  if (i + 1 == parts.size()) {
    if (index != size)
      return "array index " + std::to_string(index) + " set while the array has " + std::to_string(size) +
             " elements (indexes must start from 0 and increase in order)";
    array->children.emplace_back("", Leaf(value));
    return "";
  }
  size_t ignored;
  const bool next_is_index = IsNaturalNumber(parts[i + 1], &ignored);
  const Node::Kind wanted = next_is_index ? Node::Kind::kArray : Node::Kind::kDocument;
  if (index < size) {
    Node* existing = array->children[index].second.get();
    if (existing->kind != wanted)
      return "array element " + std::to_string(index) + " is already set to another kind of value";
    return next_is_index ? SetInArray(parts, i + 1, value, existing)
                         : SetInDocument(parts, i + 1, value, existing, true);
  }
  auto fresh = std::make_unique<Node>();
  fresh->kind = wanted;
  std::string error = next_is_index ? SetInArray(parts, i + 1, value, fresh.get())
                                    : SetInDocument(parts, i + 1, value, fresh.get(), true);
  if (error.empty()) array->children.emplace_back("", std::move(fresh));
  return error;
}

void AppendNode(bson_t* out, const std::string& key, const Node& node);

void AppendChildren(bson_t* out, const Node& node) {
  size_t index = 0;
  for (const auto& [key, child] : node.children)
    AppendNode(out, node.kind == Node::Kind::kArray ? std::to_string(index++) : key, *child);
}

void AppendNode(bson_t* out, const std::string& key, const Node& node) {
  if (node.kind == Node::Kind::kValue) {
    AppendCell(out, key, node.value);
    return;
  }
  bson_t child;
  if (node.kind == Node::Kind::kArray) {
    bson_append_array_begin(out, key.c_str(), static_cast<int>(key.size()), &child);
    AppendChildren(&child, node);
    bson_append_array_end(out, &child);
  } else {
    bson_append_document_begin(out, key.c_str(), static_cast<int>(key.size()), &child);
    AppendChildren(&child, node);
    bson_append_document_end(out, &child);
  }
}

// The tree of field names that ValidateFieldNames builds to find clashes.
struct FieldTree {
  enum class Kind { kLeaf, kDocument, kArray } kind = Kind::kDocument;
  std::vector<std::pair<std::string, std::unique_ptr<FieldTree>>> fields;  // array elements have no key

  // The path of the first field below this node ("" for a leaf).
  std::string FirstPath() const {
    if (kind == Kind::kLeaf || fields.empty()) return "";
    return "." + (kind == Kind::kArray ? std::string("0") : fields[0].first) + fields[0].second->FirstPath();
  }
};

[[noreturn]] void Incompatible(const std::string& prefix, const FieldTree& existing, const std::string& field) {
  throw TransferError("fields \"" + prefix + existing.FirstPath() + "\" and \"" + field + "\" are incompatible");
}

void AddToArray(const std::vector<std::string>& parts, size_t i, const std::string& field, std::string prefix,
                FieldTree* array);

void AddToDocument(const std::vector<std::string>& parts, size_t i, const std::string& field, std::string prefix,
                   FieldTree* doc, bool array_indexes) {
  const std::string& head = parts[i];
  prefix = prefix.empty() ? head : prefix + "." + head;
  FieldTree* existing = nullptr;
  for (auto& [key, child] : doc->fields)
    if (key == head) existing = child.get();
  const bool last = i + 1 == parts.size();
  if (existing != nullptr && last) {
    if (existing->kind == FieldTree::Kind::kLeaf) throw TransferError("the field \"" + field + "\" is given twice");
    Incompatible(prefix, *existing, field);
  }
  if (last) {
    auto leaf = std::make_unique<FieldTree>();
    leaf->kind = FieldTree::Kind::kLeaf;
    doc->fields.emplace_back(head, std::move(leaf));
    return;
  }
  size_t index;
  const bool next_is_index = array_indexes && IsNaturalNumber(parts[i + 1], &index);
  const FieldTree::Kind wanted = next_is_index ? FieldTree::Kind::kArray : FieldTree::Kind::kDocument;
  if (existing != nullptr && existing->kind != wanted) Incompatible(prefix, *existing, field);
  if (existing == nullptr) {
    auto fresh = std::make_unique<FieldTree>();
    fresh->kind = wanted;
    existing = fresh.get();
    doc->fields.emplace_back(head, std::move(fresh));
  }
  if (next_is_index)
    AddToArray(parts, i + 1, field, prefix, existing);
  else
    AddToDocument(parts, i + 1, field, prefix, existing, array_indexes);
}

void AddToArray(const std::vector<std::string>& parts, size_t i, const std::string& field, std::string prefix,
                FieldTree* array) {
  size_t index = 0;
  IsNaturalNumber(parts[i], &index);
  prefix += "." + parts[i];
  const size_t size = array->fields.size();
  const auto index_error = [&] {
    throw TransferError("array index error with the field \"" + field +
                        "\": array indexes in fields must start from 0 and increase in order");
  };
  if (i + 1 == parts.size()) {
    if (index != size) index_error();
    auto leaf = std::make_unique<FieldTree>();
    leaf->kind = FieldTree::Kind::kLeaf;
    array->fields.emplace_back("", std::move(leaf));
    return;
  }
  if (index > size) index_error();
  size_t ignored;
  const bool next_is_index = IsNaturalNumber(parts[i + 1], &ignored);
  const FieldTree::Kind wanted = next_is_index ? FieldTree::Kind::kArray : FieldTree::Kind::kDocument;
  FieldTree* element = nullptr;
  if (index < size) {
    element = array->fields[index].second.get();
    if (element->kind != wanted) Incompatible(prefix, *element, field);
  } else {
    auto fresh = std::make_unique<FieldTree>();
    fresh->kind = wanted;
    element = fresh.get();
    array->fields.emplace_back("", std::move(fresh));
  }
  if (next_is_index)
    AddToArray(parts, i + 1, field, prefix, element);
  else
    AddToDocument(parts, i + 1, field, prefix, element, true);
}

}  // namespace

bool IsNaturalNumber(const std::string& text, size_t* value) {
  if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  *value = std::stoul(text);
  return true;
}

void ValidateFieldNames(const std::vector<std::string>& names, bool array_indexes) {
  for (const std::string& name : names) {
    if (!name.empty() && name.back() == '.') throw TransferError("the field \"" + name + "\" cannot end with a '.'");
    if (!name.empty() && name.front() == '.') throw TransferError("the field \"" + name + "\" cannot start with a '.'");
    if (!name.empty() && name.front() == '$') throw TransferError("the field \"" + name + "\" cannot start with a '$'");
    if (name.find("..") != std::string::npos)
      throw TransferError("the field \"" + name + "\" cannot contain consecutive '.' characters");
  }
  FieldTree root;
  for (const std::string& name : names) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1)
      parts.push_back(name.substr(start, dot - start));
    parts.push_back(name.substr(start));
    AddToDocument(parts, 0, name, "", &root, array_indexes);
  }
}

RowOutcome RowToDocument(const std::vector<ColumnSpec>& columns, const std::vector<std::string>& cells,
                         const RowOptions& options, BsonPtr* out, std::string* message) {
  Node root;
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string& cell = cells[i];
    if (cell.empty() && options.ignore_blanks) continue;
    CellValue value;
    if (i >= columns.size()) {
      // More cells than names: field<N>, typed by the cell's text.
      const std::string key = "field" + std::to_string(i);
      for (const ColumnSpec& column : columns) {
        if (column.name == key) {
          *message = "cell " + std::to_string(i + 1) + " would be named \"" + key + "\", which is already a column";
          return RowOutcome::kError;
        }
      }
      root.children.emplace_back(key, Leaf(AutoValue(cell)));
      continue;
    }
    const ColumnSpec& column = columns[i];
    std::string why;
    if (!ParseCell(column, cell, &value, &why)) {
      switch (options.grace) {
        case ParseGrace::kAutoCast:
          value = AutoValue(cell);
          break;
        case ParseGrace::kSkipField:
          continue;
        case ParseGrace::kSkipRow:
          *message = why;
          return RowOutcome::kSkipRow;
        case ParseGrace::kStop:
          *message = why;
          return RowOutcome::kError;
      }
    }
    const std::string error = SetInDocument(column.parts, 0, value, &root, options.array_indexes);
    if (!error.empty()) {
      *message = "cannot set the field \"" + column.name + "\": " + error;
      return RowOutcome::kError;
    }
  }
  BsonPtr doc = NewBson();
  AppendChildren(doc.get(), root);
  *out = std::move(doc);
  return RowOutcome::kDocument;
}

}  // namespace docket::transfer
