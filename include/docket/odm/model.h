// Models are plain structs described with Boost.Describe. What Docket adds
// is declared, never guessed:
//
//   struct Account {
//     docket::ObjectId id;
//     std::string number;
//     docket::Decimal128 balance;
//     std::optional<std::string> note;   // absent when nullopt
//   };
//   BOOST_DESCRIBE_STRUCT(Account, (), (id, number, balance, note))
//   DOCKET_PRIMARY_KEY(Account, id)                 // stored as _id
//   DOCKET_FIELD_NAME(Account, number, "acct_no")   // stored under another name
//
// Hooks, found by their signatures: `void clean()` normalises a model and
// `docket::Status validate() const` refuses it (code DocumentValidationFailure
// 121 unless the Status says otherwise); both run before every insert and
// replace, and before any sequence number is drawn.
#pragma once

#include <boost/describe.hpp>
#include <boost/mp11.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "docket/document.h"
#include "docket/odm/types.h"
#include "docket/status.h"

namespace docket::odm {

template <class T>
concept Model = boost::describe::has_describe_members<T>::value && std::is_class_v<T>;

// DOCKET_PRIMARY_KEY and DOCKET_FIELD_NAME declare functions next to the
// model (found by argument-dependent lookup), so they work in any namespace.
template <class T>
concept HasPrimaryKey = requires { docket_primary_key(static_cast<T*>(nullptr)); };

// &T::member of the primary key.
template <HasPrimaryKey T>
constexpr auto PrimaryKeyMember() {
  return docket_primary_key(static_cast<T*>(nullptr));
}

// The stored name DOCKET_FIELD_NAME gave member P of T, or nullptr.
template <class T, auto P>
constexpr const char* FieldNameOverride() {
  if constexpr (requires { docket_field_name(static_cast<T*>(nullptr), std::integral_constant<decltype(P), P>{}); }) {
    return docket_field_name(static_cast<T*>(nullptr), std::integral_constant<decltype(P), P>{});
  } else {
    return nullptr;
  }
}

template <class T>
concept HasClean = requires(T& t) { t.clean(); };

template <class T>
concept HasValidate = requires(const T& t) {
  { t.validate() } -> std::convertible_to<Status>;
};

// A value that is either null or a T (std::optional<T> means "absent" instead).
template <class T>
using NullOr = std::variant<std::nullptr_t, T>;

// The fields of a stored document that the model does not name, kept so that
// reading and writing back loses nothing. At most one member of a model.
struct Rest {
  Document fields;
};

// A field the collection fills from a sequence on insert when it is empty
// (Collection::WithSequence). Holds the value once assigned.
template <class V>
struct Sequenced {
  std::optional<V> value;
  bool empty() const { return !value.has_value(); }
  const V& operator*() const { return *value; }
  friend bool operator==(const Sequenced&, const Sequenced&) = default;
};

namespace detail {

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};
template <class T>
struct IsNullOr : std::false_type {};
template <class T>
struct IsNullOr<NullOr<T>> : std::true_type {};
template <class T>
struct IsSequenced : std::false_type {};
template <class T>
struct IsSequenced<Sequenced<T>> : std::true_type {};
template <class T>
struct IsStringMap : std::false_type {};
template <class T>
struct IsStringMap<std::map<std::string, T>> : std::true_type {};

// The type a filter compares a field with: an optional's, an array's
// element (MongoDB matches arrays by element), a sequenced field's value.
template <class V>
struct ComparableOf {
  using type = V;
};
template <class V>
struct ComparableOf<std::optional<V>> : ComparableOf<V> {};
template <class V>
struct ComparableOf<NullOr<V>> : ComparableOf<V> {};
template <class V>
struct ComparableOf<std::vector<V>> : ComparableOf<V> {};
template <class V>
struct ComparableOf<Sequenced<V>> : ComparableOf<V> {};

// The member's type with optional / NullOr / Sequenced removed.
template <class V>
struct Underlying {
  using type = V;
};
template <class V>
struct Underlying<std::optional<V>> {
  using type = V;
};
template <class V>
struct Underlying<NullOr<V>> {
  using type = V;
};
template <class V>
struct Underlying<Sequenced<V>> {
  using type = V;
};

template <class T>
using MembersOf = boost::describe::describe_members<T, boost::describe::mod_public>;

}  // namespace detail

template <class V>
using Comparable = typename detail::ComparableOf<std::remove_cvref_t<V>>::type;

// The name member `m` of model T is stored under: "_id" for the primary key,
// DOCKET_FIELD_NAME's name, or the member's own name.
template <Model T, class M>
std::string_view StoredName(M T::*m) {
  std::string_view out;
  boost::mp11::mp_for_each<detail::MembersOf<T>>([&](auto descriptor) {
    using D = decltype(descriptor);
    if constexpr (std::is_same_v<std::remove_cv_t<decltype(D::pointer)>, M T::*>) {
      if (D::pointer != m || !out.empty()) return;
      if constexpr (HasPrimaryKey<T>) {
        if constexpr (std::is_same_v<decltype(PrimaryKeyMember<T>()), M T::*>) {
          if (PrimaryKeyMember<T>() == m) {
            out = "_id";
            return;
          }
        }
      }
      if constexpr (FieldNameOverride<T, D::pointer>() != nullptr) {
        out = FieldNameOverride<T, D::pointer>();
      } else {
        out = D::name;
      }
    }
  });
  return out;
}

}  // namespace docket::odm

// Declares which member is stored as _id. Put it next to the model, in the
// model's namespace.
#define DOCKET_PRIMARY_KEY(Type, member_name) \
  [[maybe_unused]] constexpr auto docket_primary_key(Type*) { return &Type::member_name; }

// Stores a member under another field name (next to the model, too).
#define DOCKET_FIELD_NAME(Type, member_name, stored)                                                          \
  [[maybe_unused]] constexpr const char* docket_field_name(                                                   \
      Type*, std::integral_constant<decltype(&Type::member_name), &Type::member_name>) {                       \
    return stored;                                                                                             \
  }
