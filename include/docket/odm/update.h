// Typed updates built from member pointers, combined with `+`:
//
//   using namespace docket::odm;
//   accounts.update_one(field(&Account::number) == "42",
//                       inc(&Account::balance, "12.50"_dec) + set(&Account::note, "paid"));
//
// Checked by the compiler: `inc` and `mul` need a numeric field (integers,
// double, Decimal128) and a number that converts to it; `set`, `min`, `max`
// a value of the field's type; `unset` an optional (or NullOr) field, since a
// required field that is gone would no longer read back as its model; `push`,
// `add_to_set` and `pull` an array field and one of its elements.
#pragma once

#include <bson/bson.h>

#include <map>
#include <string>
#include <vector>

#include "docket/odm/filter.h"

namespace docket::odm {

template <Model T>
class Update {
 public:
  Update() = default;
  // A raw update document ({$set: ...}), unchecked.
  static Update Raw(Document doc) {
    Update u;
    u.raw_ = std::move(doc);
    return u;
  }

  // Both updates' operators (paths must not clash: ConflictingUpdateOperators
  // 40 from the database otherwise).
  friend Update operator+(Update a, const Update& b) {
    for (const auto& [op, fields] : b.ops_) {
      auto& mine = a.ops_[op];
      mine.insert(mine.end(), fields.begin(), fields.end());
    }
    return a;
  }

  // {$op: {path: value, ...}, ...}
  Document document() const {
    if (!raw_.empty() || ops_.empty()) return raw_;
    bson_t out = BSON_INITIALIZER;
    for (const auto& [op, fields] : ops_) {
      detail::ChildBuilder group(&out, op, false);
      for (const auto& [path, value] : fields) {
        bson_iter_t it;
        value.Iterate(&it);
        if (bson_iter_next(&it)) bson_append_iter(group.get(), path.c_str(), static_cast<int>(path.size()), &it);
      }
    }
    return detail::TakeDocument(&out);
  }

  // One operator on one path; the value is held as {"": value}.
  static Update One(const char* op, std::string path, Document held) {
    Update u;
    u.ops_[op].emplace_back(std::move(path), std::move(held));
    return u;
  }

 private:
  std::map<std::string, std::vector<std::pair<std::string, Document>>> ops_;
  Document raw_;
};

namespace detail {

template <class V>
Document Held(const V& v) {
  bson_t out = BSON_INITIALIZER;
  EncodeValue(&out, "", v);
  return TakeDocument(&out);
}

template <class V>
concept Numeric = std::is_same_v<V, int32_t> || std::is_same_v<V, int64_t> || std::is_same_v<V, long long> ||
                  std::is_same_v<V, double> || std::is_same_v<V, Decimal128>;

template <class V>
concept Orderable = Numeric<V> || std::is_same_v<V, std::string> || IsTimePoint<V>::value ||
                    std::is_same_v<V, ObjectId>;

template <class V>
using Base = typename Underlying<std::remove_cvref_t<V>>::type;

template <class V>
using Element = typename std::remove_cvref_t<Base<V>>::value_type;

}  // namespace detail

// The path of a member, or of a nested field made with field(...).
template <Model T, class M>
FieldRef<T, M> PathOf(M T::*m) {
  return field(m);
}
template <Model T, class V>
FieldRef<T, V> PathOf(const FieldRef<T, V>& f) {
  return f;
}

// $set: the field takes `value`.
template <Model T, class M, class U>
  requires std::convertible_to<U, detail::Base<M>>
Update<T> set(M T::*m, const U& value) {
  return Update<T>::One("$set", std::string(StoredName(m)), detail::Held(detail::Base<M>(value)));
}
template <Model T, class V, class U>
  requires std::convertible_to<U, detail::Base<V>>
Update<T> set(const FieldRef<T, V>& f, const U& value) {
  return Update<T>::One("$set", f.path(), detail::Held(detail::Base<V>(value)));
}

// $unset: only optional fields may be removed.
template <Model T, class M>
  requires detail::IsOptional<M>::value || detail::IsNullOr<M>::value
Update<T> unset(M T::*m) {
  return Update<T>::One("$unset", std::string(StoredName(m)), detail::Held(std::string()));
}

// $inc / $mul: numeric fields only.
template <Model T, class M, class U>
  requires detail::Numeric<detail::Base<M>> && std::convertible_to<U, detail::Base<M>>
Update<T> inc(M T::*m, const U& amount) {
  return Update<T>::One("$inc", std::string(StoredName(m)), detail::Held(detail::Base<M>(amount)));
}
template <Model T, class V, class U>
  requires detail::Numeric<detail::Base<V>> && std::convertible_to<U, detail::Base<V>>
Update<T> inc(const FieldRef<T, V>& f, const U& amount) {
  return Update<T>::One("$inc", f.path(), detail::Held(detail::Base<V>(amount)));
}
template <Model T, class M, class U>
  requires detail::Numeric<detail::Base<M>> && std::convertible_to<U, detail::Base<M>>
Update<T> mul(M T::*m, const U& factor) {
  return Update<T>::One("$mul", std::string(StoredName(m)), detail::Held(detail::Base<M>(factor)));
}

// $min / $max: ordered types (numbers, strings, dates, ObjectIds).
template <Model T, class M, class U>
  requires detail::Orderable<detail::Base<M>> && std::convertible_to<U, detail::Base<M>>
Update<T> min(M T::*m, const U& value) {
  return Update<T>::One("$min", std::string(StoredName(m)), detail::Held(detail::Base<M>(value)));
}
template <Model T, class M, class U>
  requires detail::Orderable<detail::Base<M>> && std::convertible_to<U, detail::Base<M>>
Update<T> max(M T::*m, const U& value) {
  return Update<T>::One("$max", std::string(StoredName(m)), detail::Held(detail::Base<M>(value)));
}

// $push / $addToSet / $pull: array fields and one of their elements.
template <Model T, class M, class U>
  requires detail::IsVector<detail::Base<M>>::value && std::convertible_to<U, detail::Element<M>>
Update<T> push(M T::*m, const U& element) {
  return Update<T>::One("$push", std::string(StoredName(m)), detail::Held(detail::Element<M>(element)));
}
template <Model T, class M, class U>
  requires detail::IsVector<detail::Base<M>>::value && std::convertible_to<U, detail::Element<M>>
Update<T> add_to_set(M T::*m, const U& element) {
  return Update<T>::One("$addToSet", std::string(StoredName(m)), detail::Held(detail::Element<M>(element)));
}
template <Model T, class M, class U>
  requires detail::IsVector<detail::Base<M>>::value && std::convertible_to<U, detail::Element<M>>
Update<T> pull(M T::*m, const U& element) {
  return Update<T>::One("$pull", std::string(StoredName(m)), detail::Held(detail::Element<M>(element)));
}

}  // namespace docket::odm
