// cloneCollectionAsCapped and convertToCapped (engine/capped.h), on top of
// the public Collection API: the copy reads the source in natural order and
// inserts into the capped target, whose limits keep the newest documents.
#include <string>

#include "docket/engine.h"
#include "engine/engine_impl.h"
#include "engine/namespace.h"
#include "engine/views.h"
#include "storage/catalog.h"

namespace docket {

namespace {

Status SourceMissing(std::string_view db, std::string_view name) {
  return Status(ErrorCode::kNamespaceNotFound,
                "source collection " + std::string(db) + "." + std::string(name) + " does not exist");
}

}  // namespace

Status Engine::CloneCollectionAsCapped(std::string_view db, std::string_view from, std::string_view to, int64_t size) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, from));
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, to));
  if (!impl_->catalog->Find(db, from)) return SourceMissing(db, from);
  if (engine::IsView(impl_.get(), db, from)) {
    return Status(ErrorCode::kCommandNotSupportedOnView,
                  "cloneCollectionAsCapped not supported for views: " + std::string(db) + "." + std::string(from));
  }
  CollectionOptions options;
  options.capped = true;
  options.size = size;
  DOCKET_RETURN_IF_ERROR(CreateCollection(db, to, options));
  Collection source = collection(db, from);
  Collection target = collection(db, to);
  FindOptions read;
  read.batch_size = 1000;
  auto cursor = source.Find(Document(), read);
  if (!cursor.ok()) return cursor.status();
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch();
    if (!batch.ok()) return batch.status();
    for (const Document& doc : *batch) {
      auto inserted = target.InsertOne(doc);
      if (!inserted.ok()) return inserted.status();
    }
  }
  return Status::OK();
}

Status Engine::ConvertToCapped(std::string_view db, std::string_view name, int64_t size) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, name));
  if (!impl_->catalog->Find(db, name)) return SourceMissing(db, name);
  if (engine::IsView(impl_.get(), db, name)) {
    return Status(ErrorCode::kCommandNotSupportedOnView,
                  "cloneCollectionAsCapped not supported for views: " + std::string(db) + "." + std::string(name));
  }
  // The copy goes under a temporary name, then replaces the original in one
  // catalog write (a rename over it).
  const std::string temporary = "tmp.convertToCapped." + std::string(name);
  Status dropped = DropCollection(db, temporary);  // a leftover of an interrupted conversion
  if (!dropped.ok() && dropped.code() != ErrorCode::kNamespaceNotFound) return dropped;
  Status copied = CloneCollectionAsCapped(db, name, temporary, size);
  if (!copied.ok()) {
    (void)DropCollection(db, temporary);
    return copied;
  }
  return RenameCollection(db, temporary, db, name, /*drop_target=*/true);
}

}  // namespace docket
