#include <cstring>
#include <string_view>
#include <vector>

#include "bson/mutable_document.h"
#include "bson/value.h"
#include "update/update.h"

namespace docket::update {

using bson::MutableValue;

Result<Document> SeedFromFilter(const Document& filter) {
  MutableValue root = MutableValue::EmptyDocument();
  // Walks one filter level; $and recurses.
  std::vector<std::string_view> stack = {std::string_view(filter.bytes())};
  while (!stack.empty()) {
    std::string_view bytes = stack.back();
    stack.pop_back();
    bson_iter_t it;
    if (!bson_iter_init_from_data(&it, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) continue;
    while (bson_iter_next(&it)) {
      std::string_view name(bson_iter_key(&it), bson_iter_key_len(&it));
      if (name == "$and" && bson_iter_type(&it) == BSON_TYPE_ARRAY) {
        bson_iter_t element;
        bson_iter_recurse(&it, &element);
        while (bson_iter_next(&element)) {
          if (bson_iter_type(&element) == BSON_TYPE_DOCUMENT) stack.push_back(bson::SubDocumentBytes(element));
        }
        continue;
      }
      if (name.empty() || name[0] == '$') continue;
      bson_iter_t value = it;
      bool equality = true;
      if (bson_iter_type(&it) == BSON_TYPE_DOCUMENT) {
        bson_iter_t op;
        bson_iter_recurse(&it, &op);
        if (bson_iter_next(&op) && bson_iter_key(&op)[0] == '$') {
          equality = false;
          do {
            if (std::strcmp(bson_iter_key(&op), "$eq") == 0) {
              value = op;
              equality = true;
            }
          } while (bson_iter_next(&op));
        }
      }
      if (!equality) continue;
      bson::Path path = bson::SplitPath(name);
      if (bson::FindPath(&root, path) != nullptr) {
        return Status(ErrorCode::kBadValue,
                      "cannot infer query fields to set, path '" + std::string(name) + "' is matched twice");
      }
      DOCKET_RETURN_IF_ERROR(bson::SetPath(&root, path, MutableValue::FromIter(value)));
    }
  }
  return Document::FromTrustedBytes(root.ToBytes());
}

}  // namespace docket::update
