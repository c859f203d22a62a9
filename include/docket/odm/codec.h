// BSON <-> model structs. Supported member types: bool, int32_t, int64_t
// (and long long), double, std::string, ObjectId, Decimal128, time points of
// std::chrono::system_clock (stored as BSON dates, milliseconds), Document
// (an untyped sub-document), std::optional<V> (absent when empty), NullOr<V>
// (null or a value), std::vector<V>, std::map<std::string, V>, nested models,
// Sequenced<V>, and one Rest member for the fields the model does not name.
//
// Writing then reading a model gives it back unchanged. Reading a document
// that does not fit reports which field and why ("balance: expected a
// decimal or an integer, found a string"; "lines.2.qty: ..."), with
// TypeMismatch (14), or NoSuchKey (4) for a missing field. Numbers read
// leniently where nothing is lost: an integral double into an int64_t, an
// int32 into a double; an absent array or map reads as empty (other writers
// often leave empty ones out).
#pragma once

#include <bson/bson.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "docket/document.h"
#include "docket/odm/model.h"

namespace docket::odm {
namespace detail {

// Scalars (src/odm/codec.cc).
void Append(bson_t* out, std::string_view key, bool v);
void Append(bson_t* out, std::string_view key, int32_t v);
void Append(bson_t* out, std::string_view key, int64_t v);
void Append(bson_t* out, std::string_view key, long long v);
void Append(bson_t* out, std::string_view key, double v);
void Append(bson_t* out, std::string_view key, std::string_view v);
void Append(bson_t* out, std::string_view key, const char* v);
void Append(bson_t* out, std::string_view key, const std::string& v);
void Append(bson_t* out, std::string_view key, const ObjectId& v);
void Append(bson_t* out, std::string_view key, const Decimal128& v);
void Append(bson_t* out, std::string_view key, Date v);
void Append(bson_t* out, std::string_view key, const Document& v);
void Append(bson_t* out, std::string_view key, std::nullptr_t);

Status Read(const bson_iter_t& it, bool* out);
Status Read(const bson_iter_t& it, int32_t* out);
Status Read(const bson_iter_t& it, int64_t* out);
Status Read(const bson_iter_t& it, long long* out);
Status Read(const bson_iter_t& it, double* out);
Status Read(const bson_iter_t& it, std::string* out);
Status Read(const bson_iter_t& it, ObjectId* out);
Status Read(const bson_iter_t& it, Decimal128* out);
Status Read(const bson_iter_t& it, Date* out);
Status Read(const bson_iter_t& it, Document* out);

// "found a string": what a mismatched value was, for messages.
std::string Found(const bson_iter_t& it);
// Prefixes the message of a failed read with the field it came from.
Status AtField(std::string_view field, Status s);
Status Missing(std::string_view field);

// Sub-documents and arrays being written.
struct ChildBuilder {
  ChildBuilder(bson_t* parent, std::string_view key, bool array);
  ~ChildBuilder();
  bson_t* get() { return &child; }
  bson_t* parent;
  bson_t child;
  bool array;
};
std::string_view ArrayKey(size_t index, char (&buffer)[16]);
// The bytes of a finished bson_t as a Document; destroys the bson_t.
Document TakeDocument(bson_t* built);

template <class T>
struct IsTimePoint : std::false_type {};
template <class D>
struct IsTimePoint<std::chrono::time_point<std::chrono::system_clock, D>> : std::true_type {};

template <class V>
constexpr bool kSupported =
    std::is_same_v<V, bool> || std::is_same_v<V, int32_t> || std::is_same_v<V, int64_t> ||
    std::is_same_v<V, long long> || std::is_same_v<V, double> || std::is_same_v<V, std::string> ||
    std::is_same_v<V, ObjectId> || std::is_same_v<V, Decimal128> || std::is_same_v<V, Document> ||
    IsTimePoint<V>::value || IsOptional<V>::value || IsVector<V>::value || IsStringMap<V>::value ||
    IsNullOr<V>::value || IsSequenced<V>::value || Model<V>;

// Whether a member is left out of the document (empty optional, unassigned sequence).
template <class V>
bool Absent(const V& v) {
  if constexpr (IsOptional<V>::value) return !v.has_value();
  else if constexpr (IsSequenced<V>::value) return v.empty();
  else return false;
}

template <Model T>
void EncodeMembers(const T& value, bson_t* out);
template <Model T>
Status DecodeMembers(const uint8_t* data, size_t len, T* out);

template <class V>
void EncodeValue(bson_t* out, std::string_view key, const V& v) {
  static_assert(kSupported<V>, "this member type has no BSON mapping in docket::odm (see codec.h for the list)");
  if constexpr (IsOptional<V>::value || IsSequenced<V>::value) {
    if (!Absent(v)) EncodeValue(out, key, *v);
  } else if constexpr (IsNullOr<V>::value) {
    if (v.index() == 0) Append(out, key, nullptr);
    else EncodeValue(out, key, std::get<1>(v));
  } else if constexpr (IsTimePoint<V>::value) {
    Append(out, key, std::chrono::time_point_cast<std::chrono::milliseconds>(v));
  } else if constexpr (IsVector<V>::value) {
    ChildBuilder array(out, key, true);
    char buffer[16];
    for (size_t i = 0; i < v.size(); ++i) EncodeValue(array.get(), ArrayKey(i, buffer), v[i]);
  } else if constexpr (IsStringMap<V>::value) {
    ChildBuilder doc(out, key, false);
    for (const auto& [k, item] : v) EncodeValue(doc.get(), k, item);
  } else if constexpr (Model<V>) {
    ChildBuilder doc(out, key, false);
    EncodeMembers(v, doc.get());
  } else {
    Append(out, key, v);
  }
}

template <class V>
Status DecodeValue(const bson_iter_t& it, V* out) {
  static_assert(kSupported<V>, "this member type has no BSON mapping in docket::odm (see codec.h for the list)");
  if constexpr (IsOptional<V>::value) {
    if (bson_iter_type(&it) == BSON_TYPE_NULL) {
      out->reset();
      return Status::OK();
    }
    typename V::value_type inner{};
    DOCKET_RETURN_IF_ERROR(DecodeValue(it, &inner));
    *out = std::move(inner);
    return Status::OK();
  } else if constexpr (IsSequenced<V>::value) {
    std::remove_cvref_t<decltype(*out->value)> inner{};
    DOCKET_RETURN_IF_ERROR(DecodeValue(it, &inner));
    out->value = std::move(inner);
    return Status::OK();
  } else if constexpr (IsNullOr<V>::value) {
    if (bson_iter_type(&it) == BSON_TYPE_NULL) {
      *out = nullptr;
      return Status::OK();
    }
    std::remove_cvref_t<decltype(std::get<1>(*out))> inner{};
    DOCKET_RETURN_IF_ERROR(DecodeValue(it, &inner));
    *out = std::move(inner);
    return Status::OK();
  } else if constexpr (IsTimePoint<V>::value) {
    Date ms;
    DOCKET_RETURN_IF_ERROR(Read(it, &ms));
    *out = std::chrono::time_point_cast<typename V::duration>(ms);
    return Status::OK();
  } else if constexpr (IsVector<V>::value) {
    if (bson_iter_type(&it) != BSON_TYPE_ARRAY) {
      return Status(ErrorCode::kTypeMismatch, "expected an array, found " + Found(it));
    }
    out->clear();
    bson_iter_t child;
    bson_iter_recurse(&it, &child);
    for (size_t i = 0; bson_iter_next(&child); ++i) {
      typename V::value_type item{};
      Status s = DecodeValue(child, &item);
      if (!s.ok()) return AtField(std::to_string(i), s);
      out->push_back(std::move(item));
    }
    return Status::OK();
  } else if constexpr (IsStringMap<V>::value) {
    if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT) {
      return Status(ErrorCode::kTypeMismatch, "expected a document, found " + Found(it));
    }
    out->clear();
    bson_iter_t child;
    bson_iter_recurse(&it, &child);
    while (bson_iter_next(&child)) {
      typename V::mapped_type item{};
      Status s = DecodeValue(child, &item);
      if (!s.ok()) return AtField(bson_iter_key(&child), s);
      out->emplace(bson_iter_key(&child), std::move(item));
    }
    return Status::OK();
  } else if constexpr (Model<V>) {
    if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT) {
      return Status(ErrorCode::kTypeMismatch, "expected a document, found " + Found(it));
    }
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_document(&it, &len, &data);
    return DecodeMembers(data, len, out);
  } else {
    return Read(it, out);
  }
}

// The members of T other than the primary key, with their stored names.
template <Model T, class F>
void ForEachStoredMember(F&& f) {
  boost::mp11::mp_for_each<MembersOf<T>>([&](auto descriptor) {
    using D = decltype(descriptor);
    using M = std::remove_cvref_t<decltype(std::declval<T&>().*D::pointer)>;
    if constexpr (HasPrimaryKey<T>) {
      if constexpr (std::is_same_v<decltype(PrimaryKeyMember<T>()), std::remove_cv_t<decltype(D::pointer)>>) {
        if (PrimaryKeyMember<T>() == D::pointer) return;
      }
    }
    constexpr const char* name =
        FieldNameOverride<T, D::pointer>() != nullptr ? FieldNameOverride<T, D::pointer>() : D::name;
    f(std::string_view(name), D::pointer, static_cast<M*>(nullptr));
  });
}

template <Model T>
void EncodeMembers(const T& value, bson_t* out) {
  if constexpr (HasPrimaryKey<T>) {
    const auto& id = value.*PrimaryKeyMember<T>();
    if (!Absent(id)) EncodeValue(out, "_id", id);
  }
  ForEachStoredMember<T>([&](std::string_view name, auto pointer, auto* type) {
    using M = std::remove_pointer_t<decltype(type)>;
    if constexpr (std::is_same_v<M, Rest>) {
      bson_iter_t it;
      const Document& rest = (value.*pointer).fields;
      rest.Iterate(&it);
      while (bson_iter_next(&it)) bson_append_iter(out, bson_iter_key(&it), -1, &it);
    } else {
      const M& member = value.*pointer;
      if (!Absent(member)) EncodeValue(out, name, member);
    }
  });
}

template <Model T>
Status DecodeMembers(const uint8_t* data, size_t len, T* out) {
  Status result;
  // Each member from its field; absent ones must be optional-like.
  auto read_member = [&](std::string_view name, auto& member) {
    using M = std::remove_cvref_t<decltype(member)>;
    bson_iter_t it;
    if (!bson_iter_init_from_data(&it, data, len) ||
        !bson_iter_find_w_len(&it, name.data(), static_cast<int>(name.size()))) {
      if constexpr (IsOptional<M>::value) member.reset();
      else if constexpr (IsSequenced<M>::value) member.value.reset();
      else if constexpr (IsVector<M>::value || IsStringMap<M>::value) member.clear();  // absent: empty
      else result = Missing(name);
      return;
    }
    Status s = DecodeValue(it, &member);
    if (!s.ok()) result = AtField(name, s);
  };
  if constexpr (HasPrimaryKey<T>) read_member("_id", out->*PrimaryKeyMember<T>());
  ForEachStoredMember<T>([&](std::string_view name, auto pointer, auto* type) {
    using M = std::remove_pointer_t<decltype(type)>;
    if (!result.ok()) return;
    if constexpr (!std::is_same_v<M, Rest>) read_member(name, out->*pointer);
  });
  if (!result.ok()) return result;
  // The fields no member names go to a Rest member, if the model has one.
  ForEachStoredMember<T>([&](std::string_view, auto pointer, auto* type) {
    using M = std::remove_pointer_t<decltype(type)>;
    if constexpr (std::is_same_v<M, Rest>) {
      bson_t rest = BSON_INITIALIZER;
      bson_iter_t it;
      bson_iter_init_from_data(&it, data, len);
      while (bson_iter_next(&it)) {
        std::string_view key(bson_iter_key(&it), bson_iter_key_len(&it));
        bool named = key == "_id" && HasPrimaryKey<T>;
        ForEachStoredMember<T>([&](std::string_view other, auto, auto* other_type) {
          using O = std::remove_pointer_t<decltype(other_type)>;
          if constexpr (!std::is_same_v<O, Rest>) named = named || other == key;
        });
        if (!named) bson_append_iter(&rest, bson_iter_key(&it), -1, &it);
      }
      (out->*pointer).fields = TakeDocument(&rest);
    }
  });
  return Status::OK();
}

}  // namespace detail

// The model as a document (_id first when it has a primary key).
template <Model T>
Document ToDocument(const T& value) {
  bson_t doc = BSON_INITIALIZER;
  detail::EncodeMembers(value, &doc);
  return detail::TakeDocument(&doc);
}

// The document as a model. Errors: TypeMismatch / NoSuchKey naming the field.
template <Model T>
Result<T> FromDocument(const Document& doc) {
  T out{};
  Status s = detail::DecodeMembers(doc.data(), doc.size(), &out);
  if (!s.ok()) return s;
  return out;
}

}  // namespace docket::odm
