// How mongodump lays a dump out in a directory, and the collection metadata
// it writes beside each collection's documents:
//
//   <out>/<db>/<stem>.bson[.gz]            the documents, as stored, one after another
//   <out>/<db>/<stem>.metadata.json[.gz]   {options, indexes, uuid, collectionName, type}
//                                          in canonical Extended JSON
//
// where <stem> is the collection name query-escaped (or, past 238 bytes, its
// first 208 escaped bytes, "%24" and the unpadded base64url SHA-1 of the
// name), so any collection name makes a valid file name.
#pragma once

#include <string>
#include <vector>

#include "tools/docket/transfer/bson_value.h"

namespace docket::transfer {

std::string CollectionFileStem(const std::string& collection);
// The collection name a stem stands for (undoes the escaping); a shortened
// stem cannot be undone: its metadata's collectionName is the name.
std::string CollectionNameFromStem(const std::string& stem);
// Go's url.QueryEscape/QueryUnescape, as mongodump uses them.
std::string QueryEscape(const std::string& text);
std::string QueryUnescape(const std::string& text);

struct CollectionMetadata {
  std::string name;
  std::string type = "collection";  // "collection", "view" or "timeseries"
  std::string uuid;                 // 32 hex digits, or empty
  BsonPtr options;                  // create's options (capped, validator, collation, viewOn...)
  std::vector<BsonPtr> indexes;     // listIndexes' documents
};

// From one listCollections document and the collection's listIndexes.
CollectionMetadata MetadataFromListing(const bson_t* collection_info, std::vector<BsonPtr> indexes);
std::string MetadataToJson(const CollectionMetadata& metadata);
// Throws TransferError naming `what` when the text is not a metadata document.
CollectionMetadata MetadataFromJson(const std::string& json, const std::string& what);

}  // namespace docket::transfer
