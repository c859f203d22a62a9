// Collection<T>: a small value bound to one collection of one database on
// one backend. Copy it, keep it, make one per request or per tenant: nothing
// in the API rebinds a model globally, and no thread-local state is
// involved. Modifiers (In, WithSequence, WithWriteConcern) return new values
// and leave the original as it was. Safe for concurrent use by any number of
// threads. Every operation throws docket::Error on failure.
#pragma once

#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "docket/odm/backend.h"
#include "docket/odm/sequence.h"
#include "docket/odm/update.h"

namespace docket::odm {

// Sort orders from members: Sort<Account>().Descending(&Account::balance).Ascending(&Account::number)
template <Model T>
class Sort {
 public:
  template <class M>
  Sort& Ascending(M T::*m) {
    keys_.emplace_back(std::string(StoredName(m)), 1);
    return *this;
  }
  template <class M>
  Sort& Descending(M T::*m) {
    keys_.emplace_back(std::string(StoredName(m)), -1);
    return *this;
  }
  Document document() const {
    bson_t out = BSON_INITIALIZER;
    for (const auto& [path, direction] : keys_) detail::Append(&out, path, direction);
    return detail::TakeDocument(&out);
  }

 private:
  std::vector<std::pair<std::string, int32_t>> keys_;
};

template <Model T>
struct FindOptions {
  Sort<T> sort;
  int64_t skip = 0;
  int64_t limit = 0;  // 0: none
  int32_t batch_size = 0;
  // MongoDB's collation ({locale: "en", strength: 2}: case-insensitive) for
  // the filter and the sort; {} takes the collection's default. The same on
  // both backends.
  Document collation;
};

// Results decoded one at a time, usable in a range-for. A document that does
// not fit T throws (TypeMismatch naming the field). Single pass.
template <class T>
class Cursor {
 public:
  explicit Cursor(std::unique_ptr<BackendCursor> impl) : impl_(std::move(impl)) {}

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;
    iterator() = default;
    explicit iterator(Cursor* c) : cursor_(c) { ++*this; }
    const T& operator*() const { return *current_; }
    const T* operator->() const { return &*current_; }
    iterator& operator++() {
      current_ = cursor_->NextValue();
      if (!current_) cursor_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.cursor_ == b.cursor_; }

   private:
    Cursor* cursor_ = nullptr;
    std::optional<T> current_;
  };

  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

  // The next result, or nullopt at the end.
  std::optional<T> NextValue() {
    std::optional<Document> doc = impl_->Next();
    if (!doc) return std::nullopt;
    if constexpr (std::is_same_v<T, Document>) {
      return doc;
    } else {
      auto decoded = FromDocument<T>(*doc);
      ThrowIfError(decoded.status());
      return std::move(decoded).value();
    }
  }
  std::vector<T> ToVector() {
    std::vector<T> out;
    while (auto v = NextValue()) out.push_back(std::move(*v));
    return out;
  }

 private:
  std::unique_ptr<BackendCursor> impl_;
};

struct UpdateOutcome {
  int64_t matched = 0;
  int64_t modified = 0;
  bool upserted = false;
};

namespace detail {

// Throws a refused validation as DocumentValidationFailure (121) unless it
// carries its own code (src/odm/codec.cc).
void ThrowIfInvalid(const Status& validation);

}  // namespace detail

template <Model T>
class Collection {
 public:
  Collection(std::shared_ptr<Backend> backend, Namespace ns) : backend_(std::move(backend)), ns_(std::move(ns)) {}

  const Namespace& ns() const { return ns_; }
  Backend& backend() const { return *backend_; }

  // A handle whose operations run inside `session`'s transaction.
  Collection In(Session& session) const {
    Collection c = *this;
    c.session_ = &session;
    return c;
  }
  Collection WithWriteConcern(WriteConcernOptions wc) const {
    Collection c = *this;
    c.write_concern_ = wc;
    return c;
  }
  // A handle that fills `member` from `sequence` on insert when it is
  // empty (after clean() and validate()). A gapless sequence makes each
  // insert a transaction of its own (or part of the handle's session).
  template <class V>
  Collection WithSequence(Sequenced<V> T::*member, Sequence sequence, SequenceFormat format = {}) const
    requires std::is_same_v<V, std::string> || std::is_same_v<V, int64_t>
  {
    Collection c = *this;
    auto seq = std::make_shared<const Sequence>(std::move(sequence));
    c.fill_ = [member, seq, format](T& doc, Session* session) {
      if (!(doc.*member).empty()) return false;
      int64_t n = session != nullptr ? seq->Next(*session) : seq->Next();
      if constexpr (std::is_same_v<V, std::string>) (doc.*member).value = format.Format(n);
      else (doc.*member).value = n;
      return true;
    };
    c.clear_ = [member](T& doc) { (doc.*member).value.reset(); };
    c.gapless_ = seq->strategy() == SequenceStrategy::kGapless;
    return c;
  }

  // ---- writes ----

  // Runs clean() and validate(), draws a sequence value if bound, gives an
  // empty ObjectId primary key a fresh value, and inserts. `doc` receives
  // what was filled in. Errors: the hook's status (DocumentValidationFailure
  // 121 by default), DuplicateKey, ...
  void InsertOne(T& doc) const {
    std::vector<T*> one = {&doc};
    InsertAll(one, true);
  }
  // Each document as InsertOne. Ordered stops at the first error and throws
  // it; unordered inserts what it can, then throws the first error.
  void InsertMany(std::vector<T>& docs, bool ordered = true) const {
    std::vector<T*> all;
    for (T& d : docs) all.push_back(&d);
    InsertAll(all, ordered);
  }

  UpdateOutcome UpdateOne(const Filter<T>& filter, const Update<T>& update, bool upsert = false) const {
    return Modify(filter.document(), update.document(), upsert, false, false);
  }
  UpdateOutcome UpdateMany(const Filter<T>& filter, const Update<T>& update) const {
    return Modify(filter.document(), update.document(), false, true, false);
  }
  // Replaces the matching document with `doc` (after clean() and validate()).
  UpdateOutcome ReplaceOne(const Filter<T>& filter, T doc, bool upsert = false) const {
    Prepare(doc);
    return Modify(filter.document(), ToDocument(doc), upsert, false, true);
  }
  int64_t DeleteOne(const Filter<T>& filter) const {
    return backend_->Delete(ns_, filter.document(), false, write_concern_, session_);
  }
  int64_t DeleteMany(const Filter<T>& filter) const {
    return backend_->Delete(ns_, filter.document(), true, write_concern_, session_);
  }

  // The document after (return_new) or before the update; nullopt when
  // nothing matched and nothing was upserted.
  std::optional<T> FindOneAndUpdate(const Filter<T>& filter, const Update<T>& update, bool return_new = true,
                                    bool upsert = false, const Sort<T>& sort = {}) const {
    FindAndModifySpec spec{filter.document(), sort.document(), update.document(), upsert, return_new};
    return Decode(backend_->FindAndModify(ns_, spec, write_concern_, session_));
  }
  std::optional<T> FindOneAndReplace(const Filter<T>& filter, T doc, bool return_new = true,
                                     bool upsert = false) const {
    Prepare(doc);
    FindAndModifySpec spec{filter.document(), Document(), ToDocument(doc), upsert, return_new};
    return Decode(backend_->FindAndModify(ns_, spec, write_concern_, session_));
  }
  std::optional<T> FindOneAndDelete(const Filter<T>& filter, const Sort<T>& sort = {}) const {
    FindAndModifySpec spec{filter.document(), sort.document(), std::nullopt, false, false};
    return Decode(backend_->FindAndModify(ns_, spec, write_concern_, session_));
  }

  // ---- reads ----

  Cursor<T> Find(const Filter<T>& filter = {}, const FindOptions<T>& options = {}) const {
    FindSpec spec{filter.document(), Document(), options.sort.document(), options.skip, options.limit,
                  options.batch_size, options.collation};
    return Cursor<T>(backend_->Find(ns_, spec, session_));
  }
  std::optional<T> FindOne(const Filter<T>& filter = {}, const FindOptions<T>& options = {}) const {
    FindOptions<T> one = options;
    one.limit = 1;
    return Find(filter, one).NextValue();
  }
  int64_t Count(const Filter<T>& filter = {}) const { return backend_->Count(ns_, filter.document(), session_); }
  // Distinct values of a member (its element type for arrays).
  template <class M>
  std::vector<Comparable<M>> Distinct(M T::*m, const Filter<T>& filter = {}) const {
    Document values = backend_->Distinct(ns_, std::string(StoredName(m)), filter.document(), session_);
    auto decoded = DecodeValues<Comparable<M>>(values);
    return decoded;
  }
  // A pipeline's results as models R (T by default) or as raw documents
  // (Aggregate<Document>).
  template <class R = T>
  Cursor<R> Aggregate(const std::vector<Document>& pipeline) const {
    return Cursor<R>(backend_->Aggregate(ns_, pipeline, session_));
  }

  // ---- indexes ----

  // An index on members, ascending; returns its name.
  template <class... M>
  std::string CreateIndex(bool unique, M T::*... members) const {
    bson_t key = BSON_INITIALIZER;
    (detail::Append(&key, StoredName(members), int32_t{1}), ...);
    bson_t spec = BSON_INITIALIZER;
    detail::Append(&spec, "key", detail::TakeDocument(&key));
    if (unique) detail::Append(&spec, "unique", true);
    return backend_->CreateIndex(ns_, detail::TakeDocument(&spec));
  }
  // A createIndexes spec as a document ({key, name, unique, sparse, ...}).
  std::string CreateIndex(const Document& spec) const { return backend_->CreateIndex(ns_, spec); }
  void Drop() const { backend_->DropCollection(ns_); }

 private:
  void Prepare(T& doc) const {
    if constexpr (HasClean<T>) doc.clean();
    if constexpr (HasValidate<T>) detail::ThrowIfInvalid(Status(doc.validate()));
    if constexpr (HasPrimaryKey<T>) {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(doc.*PrimaryKeyMember<T>())>, ObjectId>) {
        auto& id = doc.*PrimaryKeyMember<T>();
        if (id.is_zero()) id = ObjectId::Generate();
      }
    }
  }

  void InsertAll(const std::vector<T*>& docs, bool ordered) const {
    for (T* d : docs) Prepare(*d);  // hooks first: a refused document draws no number
    // A value drawn for an insert that then fails is taken back from the
    // document (a retried transaction draws again; a burned atomic or block
    // value stays a gap). A transaction whose commit failed runs the body
    // again: the values its earlier attempt drew were rolled back with it
    // and may be another insert's by now, so they are drawn again too.
    std::vector<T*> filled;  // by the latest attempt
    auto take_back = [&] {
      for (T* d : filled) clear_(*d);
      filled.clear();
    };
    auto write = [&](Session* session) {
      take_back();
      try {
        std::vector<Document> encoded;
        for (T* d : docs) {
          if (fill_ && fill_(*d, session)) filled.push_back(d);
          encoded.push_back(ToDocument(*d));
        }
        auto results = backend_->Insert(ns_, encoded, ordered, write_concern_, session);
        for (const auto& r : results) {
          if (r && !r->ok()) throw Error(*r);
        }
      } catch (...) {
        take_back();
        throw;
      }
    };
    if (gapless_ && session_ == nullptr) {
      try {
        backend_->WithTransaction([&](Session& s) { write(&s); }, write_concern_, 100);
      } catch (...) {
        take_back();  // the last attempt's commit failed: its values are not the documents'
        throw;
      }
    } else {
      write(session_);
    }
  }

  UpdateOutcome Modify(const Document& filter, const Document& update, bool upsert, bool many, bool replacement) const {
    ModifySpec spec{filter, update, upsert, many, replacement};
    ModifyOutcome out = backend_->Modify(ns_, spec, write_concern_, session_);
    return UpdateOutcome{out.matched, out.modified, out.upserted_id.has_value()};
  }

  static std::optional<T> Decode(const std::optional<Document>& doc) {
    if (!doc) return std::nullopt;
    auto decoded = FromDocument<T>(*doc);
    ThrowIfError(decoded.status());
    return std::move(decoded).value();
  }

  template <class V>
  static std::vector<V> DecodeValues(const Document& values) {
    std::vector<V> out;
    bson_iter_t it, element;
    if (!values.Find("values", &it)) return out;
    bson_iter_recurse(&it, &element);
    while (bson_iter_next(&element)) {
      V v{};
      ThrowIfError(detail::AtField("distinct", detail::DecodeValue(element, &v)));
      out.push_back(std::move(v));
    }
    return out;
  }

  std::shared_ptr<Backend> backend_;
  Namespace ns_;
  Session* session_ = nullptr;
  WriteConcernOptions write_concern_;
  std::function<bool(T&, Session*)> fill_;  // fills an empty sequenced member; says whether it did
  std::function<void(T&)> clear_;           // empties it again
  bool gapless_ = false;
};

}  // namespace docket::odm
