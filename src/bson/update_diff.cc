#include "bson/update_diff.h"

#include <bson/bson.h>

#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bson/append_element.h"
#include "bson/builder.h"

namespace docket::bson {
namespace {

// The bytes of the current element's value (after its key).
std::string_view ValueBytes(const bson_iter_t& it) {
  return std::string_view(reinterpret_cast<const char*>(it.raw) + it.d1, it.next_off - it.d1);
}

bool SameValue(const bson_iter_t& a, const bson_iter_t& b) {
  return bson_iter_type(&a) == bson_iter_type(&b) && ValueBytes(a) == ValueBytes(b);
}

bool IsContainer(const bson_iter_t& it) { return BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it); }

// A field and which occurrence of its name it is (0 for the first: BSON
// allows a name twice, and the k-th occurrence on one side pairs with the
// k-th on the other).
struct Field {
  std::string_view key;
  size_t occurrence;
  bson_iter_t it;
};

std::vector<Field> Fields(bson_iter_t parent) {
  std::vector<Field> out;
  std::unordered_map<std::string_view, size_t> seen;
  bson_iter_t child;
  bson_iter_recurse(&parent, &child);
  while (bson_iter_next(&child)) {
    const std::string_view key(bson_iter_key(&child), bson_iter_key_len(&child));
    out.push_back({key, seen[key]++, child});
  }
  return out;
}

// The fields by name and occurrence, for lookups in linear time overall.
class FieldIndex {
 public:
  explicit FieldIndex(const std::vector<Field>& fields) {
    for (const Field& f : fields) by_name_[f.key].push_back(&f);
  }
  const Field* Find(const Field& like) const {
    auto it = by_name_.find(like.key);
    if (it == by_name_.end() || like.occurrence >= it->second.size()) return nullptr;
    return it->second[like.occurrence];
  }

 private:
  std::unordered_map<std::string_view, std::vector<const Field*>> by_name_;
};

bool DiffContainers(const bson_iter_t& before, const bson_iter_t& after, bson_t* out);

// An object's diff into `out`; false when it would say nothing.
bool DiffObjects(const bson_iter_t& before, const bson_iter_t& after, bson_t* out) {
  const std::vector<Field> old_fields = Fields(before), new_fields = Fields(after);
  const FieldIndex old_index(old_fields), new_index(new_fields);
  Builder removed, updated, inserted, nested;
  bool any_removed = false, any_updated = false, any_inserted = false, any_nested = false;
  for (const Field& f : old_fields) {
    if (new_index.Find(f) != nullptr) continue;
    bson_append_bool(removed.get(), f.key.data(), static_cast<int>(f.key.size()), false);
    any_removed = true;
  }
  for (const Field& f : new_fields) {
    const Field* old = old_index.Find(f);
    if (old == nullptr) {
      AppendElement(inserted.get(), f.key.data(), static_cast<int>(f.key.size()), &f.it);
      any_inserted = true;
      continue;
    }
    if (SameValue(old->it, f.it)) continue;
    if (IsContainer(old->it) && bson_iter_type(&old->it) == bson_iter_type(&f.it)) {
      bson_t sub = BSON_INITIALIZER;
      if (DiffContainers(old->it, f.it, &sub)) {
        const std::string key = "s" + std::string(f.key);
        bson_append_document(nested.get(), key.c_str(), static_cast<int>(key.size()), &sub);
        bson_destroy(&sub);
        any_nested = true;
        continue;
      }
      bson_destroy(&sub);
    }
    AppendElement(updated.get(), f.key.data(), static_cast<int>(f.key.size()), &f.it);
    any_updated = true;
  }
  if (any_removed) bson_append_document(out, "d", 1, removed.get());
  if (any_updated) bson_append_document(out, "u", 1, updated.get());
  if (any_inserted) bson_append_document(out, "i", 1, inserted.get());
  if (any_nested) bson_concat(out, nested.get());
  return any_removed || any_updated || any_inserted || any_nested;
}

// An array's diff into `out`; false when it would say nothing.
bool DiffArrays(const bson_iter_t& before, const bson_iter_t& after, bson_t* out) {
  const std::vector<Field> old_items = Fields(before), new_items = Fields(after);
  BSON_APPEND_BOOL(out, "a", true);
  bool any = false;
  if (new_items.size() < old_items.size()) {
    BSON_APPEND_INT32(out, "l", static_cast<int32_t>(new_items.size()));
    any = true;
  }
  for (size_t i = 0; i < new_items.size(); ++i) {
    const std::string index = std::to_string(i);
    if (i < old_items.size()) {
      if (SameValue(old_items[i].it, new_items[i].it)) continue;
      if (IsContainer(old_items[i].it) && bson_iter_type(&old_items[i].it) == bson_iter_type(&new_items[i].it)) {
        bson_t sub = BSON_INITIALIZER;
        if (DiffContainers(old_items[i].it, new_items[i].it, &sub)) {
          const std::string key = "s" + index;
          bson_append_document(out, key.c_str(), static_cast<int>(key.size()), &sub);
          bson_destroy(&sub);
          any = true;
          continue;
        }
        bson_destroy(&sub);
      }
    }
    const std::string key = "u" + index;
    AppendElement(out, key.c_str(), static_cast<int>(key.size()), &new_items[i].it);
    any = true;
  }
  return any;
}

bool DiffContainers(const bson_iter_t& before, const bson_iter_t& after, bson_t* out) {
  return BSON_ITER_HOLDS_ARRAY(&before) ? DiffArrays(before, after, out) : DiffObjects(before, after, out);
}

// A document as the value of a one-field wrapper, so that the top level is
// diffed as any nested object.
Document Wrap(const Document& doc) {
  Builder b;
  AppendDocument(b.get(), "", doc);
  return b.Finish();
}

}  // namespace

Document ComputeUpdateDiff(const Document& before, const Document& after) {
  const Document old_wrapped = Wrap(before), new_wrapped = Wrap(after);
  bson_iter_t old_it, new_it;
  old_wrapped.Iterate(&old_it);
  new_wrapped.Iterate(&new_it);
  bson_iter_next(&old_it);
  bson_iter_next(&new_it);
  Builder out;
  DiffObjects(old_it, new_it, out.get());
  return out.Finish();
}

}  // namespace docket::bson
