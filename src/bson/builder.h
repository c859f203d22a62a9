// An owned bson_t being built, finished into a Document. Not copyable.
#pragma once

#include <bson/bson.h>

#include <string>

#include "docket/document.h"

namespace docket::bson {

class Builder {
 public:
  Builder() { bson_init(&bson_); }
  ~Builder() { bson_destroy(&bson_); }
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  bson_t* get() { return &bson_; }
  // A copy of what was built so far (valid BSON: libbson built it).
  Document Finish() const {
    return Document::FromTrustedBytes(
        std::string(reinterpret_cast<const char*>(bson_get_data(&bson_)), bson_.len));
  }

 private:
  bson_t bson_;
};

// Appends `doc` as a sub-document field of `parent`.
inline void AppendDocument(bson_t* parent, const char* key, const Document& doc) {
  bson_t child;
  if (bson_init_static(&child, doc.data(), doc.size())) bson_append_document(parent, key, -1, &child);
}

}  // namespace docket::bson
