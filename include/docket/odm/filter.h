// Typed filters built from member pointers, checked by the compiler:
//
//   using docket::odm::field;
//   auto rich = field(&Account::number) == "42" && field(&Account::balance) > 0;
//   auto city = field(&User::address, &Address::city).in({"Oslo", "Bergen"});
//
// A value must convert to the field's type (an array field compares with its
// elements, an optional with its value): comparing an int field with a
// string does not compile. Raw documents remain available as filters too.
#pragma once

#include <bson/bson.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "docket/odm/codec.h"

namespace docket::odm {

template <Model T>
class Filter {
 public:
  Filter() = default;  // everything
  // A raw filter document, unchecked (for what the typed builders lack).
  static Filter Raw(Document doc) {
    Filter f;
    f.doc_ = std::move(doc);
    return f;
  }
  const Document& document() const { return doc_; }

  friend Filter operator&&(const Filter& a, const Filter& b) { return Combine("$and", a, b); }
  friend Filter operator||(const Filter& a, const Filter& b) { return Combine("$or", a, b); }
  friend Filter operator!(const Filter& a) {
    bson_t out = BSON_INITIALIZER;
    {
      detail::ChildBuilder list(&out, "$nor", true);
      detail::Append(list.get(), "0", a.doc_);
    }
    return Take(&out);
  }

 private:
  template <Model, class>
  friend class FieldRef;

  static Filter Combine(const char* op, const Filter& a, const Filter& b) {
    bson_t out = BSON_INITIALIZER;
    {
      detail::ChildBuilder list(&out, op, true);
      detail::Append(list.get(), "0", a.doc_);
      detail::Append(list.get(), "1", b.doc_);
    }
    return Take(&out);
  }
  // Takes the bytes of a finished bson_t and destroys it.
  static Filter Take(bson_t* out) { return Raw(detail::TakeDocument(out)); }
  Document doc_;
};

// A path into model T whose values have type V.
template <Model T, class V>
class FieldRef {
 public:
  using Value = V;
  explicit FieldRef(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  template <class U>
    requires std::convertible_to<U, Comparable<V>>
  Filter<T> operator==(const U& v) const { return Op("$eq", v); }
  template <class U>
    requires std::convertible_to<U, Comparable<V>>
  Filter<T> operator!=(const U& v) const { return Op("$ne", v); }
  template <class U>
    requires std::convertible_to<U, Comparable<V>>
  Filter<T> operator<(const U& v) const { return Op("$lt", v); }
  template <class U>
    requires std::convertible_to<U, Comparable<V>>
  Filter<T> operator<=(const U& v) const { return Op("$lte", v); }
  template <class U>
    requires std::convertible_to<U, Comparable<V>>
  Filter<T> operator>(const U& v) const { return Op("$gt", v); }
  template <class U>
    requires std::convertible_to<U, Comparable<V>>
  Filter<T> operator>=(const U& v) const { return Op("$gte", v); }

  Filter<T> in(std::initializer_list<Comparable<V>> values) const { return List("$in", values); }
  Filter<T> in(const std::vector<Comparable<V>>& values) const { return List("$in", values); }
  Filter<T> nin(std::initializer_list<Comparable<V>> values) const { return List("$nin", values); }
  Filter<T> nin(const std::vector<Comparable<V>>& values) const { return List("$nin", values); }
  // Whether the field is present (optional members are absent when empty).
  Filter<T> exists(bool present = true) const { return Op("$exists", present); }
  // For string fields: the PCRE pattern matches (options "i", "m", "s", "x").
  Filter<T> matches(std::string_view pattern, std::string_view options = "") const
    requires std::is_same_v<Comparable<V>, std::string>
  {
    bson_t out = BSON_INITIALIZER;
    {
      detail::ChildBuilder cond(&out, path_, false);
      std::string p(pattern), o(options);
      bson_append_regex(cond.get(), "$regex", -1, p.c_str(), o.c_str());
    }
    return Take(&out);
  }
  // For array fields: the array has exactly n elements.
  Filter<T> size(int64_t n) const
    requires detail::IsVector<typename detail::Underlying<V>::type>::value
  {
    return Op("$size", n);
  }

 private:
  template <class U>
  Filter<T> Op(const char* op, const U& v) const {
    bson_t out = BSON_INITIALIZER;
    {
      detail::ChildBuilder cond(&out, path_, false);
      if constexpr (std::is_same_v<U, bool> || std::is_same_v<U, int64_t>) {
        detail::EncodeValue(cond.get(), op, v);
      } else {
        detail::EncodeValue(cond.get(), op, static_cast<const Comparable<V>&>(Comparable<V>(v)));
      }
    }
    return Take(&out);
  }
  template <class Values>
  Filter<T> List(const char* op, const Values& values) const {
    bson_t out = BSON_INITIALIZER;
    {
      detail::ChildBuilder cond(&out, path_, false);
      detail::ChildBuilder list(cond.get(), op, true);
      char buffer[16];
      size_t i = 0;
      for (const auto& v : values) detail::EncodeValue(list.get(), detail::ArrayKey(i++, buffer), v);
    }
    return Take(&out);
  }
  static Filter<T> Take(bson_t* out) { return Filter<T>::Raw(detail::TakeDocument(out)); }
  std::string path_;
};

// The field of member `m` ("balance"), and nested fields through models
// ("address.city"; through an array of models, MongoDB matches any element).
template <Model T, class M>
FieldRef<T, M> field(M T::*m) {
  return FieldRef<T, M>(std::string(StoredName(m)));
}

template <Model T, class M1, class C, class M2>
  requires Model<C> && std::is_same_v<typename detail::Underlying<Comparable<M1>>::type, C>
FieldRef<T, M2> field(M1 T::*outer, M2 C::*inner) {
  return FieldRef<T, M2>(std::string(StoredName(outer)) + "." + std::string(StoredName(inner)));
}

template <Model T, class M1, class C1, class M2, class C2, class M3>
  requires Model<C1> && Model<C2> && std::is_same_v<typename detail::Underlying<Comparable<M1>>::type, C1> &&
           std::is_same_v<typename detail::Underlying<Comparable<M2>>::type, C2>
FieldRef<T, M3> field(M1 T::*a, M2 C1::*b, M3 C2::*c) {
  return FieldRef<T, M3>(std::string(StoredName(a)) + "." + std::string(StoredName(b)) + "." +
                         std::string(StoredName(c)));
}

}  // namespace docket::odm
