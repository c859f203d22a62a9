// Secondary indexes: what a spec means (fields, directions, options) and the
// keys a document has in an index. The storage layout of the keys is in
// storage/keys.h; maintenance and builds are the engine's (engine/indexes.h).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bson/path.h"
#include "docket/document.h"
#include "index/access_counter.h"
#include "docket/status.h"
#include "query/filter.h"
#include "text/collation.h"
#include "geo/geohash.h"
#include "geo/geometry.h"
#include "text/text_index_spec.h"

namespace docket::index {

struct IndexField {
  bson::Path path;
  std::string dotted;
  bool descending = false;
  // {field: "hashed"}: the key is MongoDB's hash of the value (a NumberLong;
  // bson/hash_value.h), usable for equality only; arrays are refused.
  bool hashed = false;
  // The text part of a text index (_fts): the key is one of the document's
  // terms (TextTermKey), one key per term; a document without terms is
  // not in the index.
  bool text = false;
  // A 2dsphere field: the keys are the S2 cell ids (NumberLong) covering the
  // geometries the document holds there (SphereCellKey); see Index::KeysFor.
  bool sphere = false;
  // A 2d field (legacy coordinate pairs): the keys are the geohashes of the
  // locations the document holds there (FlatCellKey); see Index::KeysFor.
  bool flat = false;
};

// A text index's key part for `term`.
std::string TextTermKey(std::string_view term);

// A 2dsphere field's key part for S2 cell `cell`: the NumberLong of the
// same 64 bits, as MongoDB stores it. Within one cube face the ids keep
// their order, so a cell's descendants are one contiguous key range.
std::string SphereCellKey(uint64_t cell);

// A 2d field's key part for the left-aligned geohash `code`
// (geo/geohash.h): a NumberLong whose signed order is the codes' unsigned
// order (the top bit flipped), so a cell is one contiguous key range.
std::string FlatCellKey(uint64_t code);

// A compiled index spec. Immutable; shared by every operation on the collection.
class Index {
 public:
  // `spec` is a normalised spec (NormalizeSpec).
  static Result<std::shared_ptr<const Index>> Compile(uint64_t id, const Document& spec);

  uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const Document& spec() const { return spec_; }        // as listIndexes shows it
  const Document& key_pattern() const { return key_pattern_; }
  const std::vector<IndexField>& fields() const { return fields_; }
  bool unique() const { return unique_; }
  bool sparse() const { return sparse_; }
  bool partial() const { return partial_ != nullptr; }
  // The partialFilterExpression as given (empty when not partial).
  const Document& partial_filter() const { return partial_filter_; }
  // The index's collation (its spec's `collation`; null: binary): string
  // keys are its sort keys, so only a query with the same collation may
  // read string bounds from it.
  const text::Collator* collation() const { return collation_.get(); }
  const std::optional<int64_t>& expire_after_seconds() const { return expire_after_seconds_; }
  // A hidden index (MongoDB 4.4+) is kept up to date, enforces its unique
  // constraint and expires documents (TTL), but the planner never uses it.
  bool hidden() const { return hidden_; }
  // prepareUnique (MongoDB 6.0, on the way to a unique index): stored as a
  // non-unique index, but a write may not add a key another document has.
  bool prepare_unique() const { return prepare_unique_; }

  // The index keys of `doc` (per field the order-preserving encoding, bytes
  // inverted for a descending field, the hash's encoding for a hashed one;
  // concatenated), sorted and distinct. An array gives one key per element
  // (multikey); a missing field indexes as null, an empty array as
  // undefined. Empty when a sparse or partial index leaves the document out.
  // Errors: CannotIndexParallelArrays (171); an array on a hashed field's
  // path, Location16766; on a text index's other fields,
  // CannotBuildIndexKeys (201); a language the text index cannot use, 17261
  // or 17262; a geometry a 2dsphere field cannot index, Location16755; a
  // location a 2d field cannot index, Location16804, 13068, 13026, 13027.
  // *multikey (when given) tells whether an indexed path meets an array.
  Status KeysFor(const Document& doc, std::vector<std::string>* keys, bool* multikey = nullptr) const;

  // Whether any document ever gave this index array-derived keys (MongoDB's
  // "isMultiKey"). Only ever goes from false to true; the engine persists it
  // in the same transaction as the write that makes it true.
  bool multikey() const { return multikey_.load(); }
  void MarkMultikey() const { multikey_.store(true); }

  // Being built while writers run (storage::StoredIndex::building): writers
  // keep its entries; the planner, hints, listIndexes, the TTL monitor and
  // validate leave it alone until it is ready. Set under the collection's
  // lifecycle held exclusively.
  bool building() const { return building_.load(); }
  void SetBuilding(bool building) const { building_.store(building); }

  // Whether some field is "2dsphere"; then the index is sparse on those
  // fields (a document with none of them holds no entry) and its coverings
  // use sphere_cover().
  bool has_sphere() const { return has_sphere_; }
  const geo::CoverParams& sphere_cover() const { return sphere_cover_; }
  // Whether the first field is "2d" (MongoDB's legacy geospatial index);
  // then the index holds only documents with a location there, and
  // geohash() maps locations to codes with the index's bits, min and max.
  bool has_flat() const { return geohash_ != nullptr; }
  const geo::GeoHasher* geohash() const { return geohash_.get(); }

  // A text index's spec (what it indexes and how it scores); null otherwise.
  const std::shared_ptr<const text::TextIndexSpec>& text() const { return text_; }

  // $indexStats' accesses (a statistic: counted through a const index).
  AccessCounter& accesses() const { return accesses_; }

 private:
  uint64_t id_ = 0;
  std::string name_;
  Document spec_;
  Document key_pattern_;
  std::vector<IndexField> fields_;
  bool unique_ = false;
  bool sparse_ = false;
  bool hidden_ = false;
  bool prepare_unique_ = false;
  std::shared_ptr<const query::Filter> partial_;
  Document partial_filter_;
  text::CollatorPtr collation_;
  std::shared_ptr<const text::TextIndexSpec> text_;
  bool has_sphere_ = false;
  geo::CoverParams sphere_cover_;
  std::shared_ptr<const geo::GeoHasher> geohash_;
  std::optional<int64_t> expire_after_seconds_;
  mutable std::atomic<bool> multikey_{false};
  mutable AccessCounter accesses_;
  mutable std::atomic<bool> building_{false};
};

// MongoDB's default index name: "a_1_b_-1".
std::string DefaultName(const Document& key_pattern);

// Checks a createIndexes spec ({key, name, unique, sparse,
// partialFilterExpression, expireAfterSeconds, collation, ...}) and returns
// it in listIndexes form: {v: 2, key, name, options...}. A missing name gets
// the default; a missing collation the collection's (`collection_collation`,
// null: simple), and a collation is kept in its full form (none when
// simple). Errors: CannotCreateIndex (67), InvalidIndexSpecificationOption
// (197), TypeMismatch (14), BadValue (2), a collation's errors.
Result<Document> NormalizeSpec(const Document& spec, const text::Collator* collection_collation = nullptr);

// Whether two normalised specs describe the same index apart from the name.
bool SameOptions(const Document& a, const Document& b);

}  // namespace docket::index
