// Dotted paths ("a.b.0.c") and how MongoDB queries walk them through
// embedded documents and arrays.
#pragma once

#include <bson/bson.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace docket::bson {

// A non-owning reference to a callable, cheap to pass by value. The callable
// must outlive the call it is passed to.
template <typename Signature>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit by design
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

using Path = std::vector<std::string>;

Path SplitPath(std::string_view dotted);
std::string JoinPath(const Path& path, size_t end);

// True when `component` is a non-negative decimal integer without a leading
// zero ("0", "12"), as MongoDB reads array indexes in paths.
bool ParseArrayIndex(std::string_view component, size_t* index);

// Marks "no array was traversed" in VisitOptions::position.
inline constexpr size_t kNoPosition = static_cast<size_t>(-1);

struct VisitOptions {
  // Whether an array at the end of the path is also offered element by
  // element (true for most query operators; false for $size, $elemMatch).
  bool expand_leaf_arrays = true;
  // When set, holds before each visit the index taken in the outermost array
  // the walk went through to reach the value (kNoPosition if none): the
  // element the positional `$` operator refers to.
  size_t* position = nullptr;
};

// Calls visit(value) for every value `path` reaches in the document, following
// MongoDB's query rules: a path component applied to an array reaches into each
// element that is a document, and a numeric component also selects the element
// at that index; a value at the end of the path that is an array is offered
// whole and then (expand_leaf_arrays) element by element. visit(nullptr)
// reports that a branch of the walk found the path missing. Stops and returns
// true as soon as visit returns true.
bool VisitPath(const uint8_t* doc, size_t len, const Path& path,
               FunctionRef<bool(const bson_iter_t*)> visit, VisitOptions options = {});

// As VisitPath, starting from a value instead of a document; an empty path
// visits the value itself (and, expanding, its elements if it is an array).
bool VisitPathFromValue(const bson_iter_t& value, const Path& path,
                        FunctionRef<bool(const bson_iter_t*)> visit, VisitOptions options = {});

// Looks up `path` without array expansion: numeric components index arrays.
// Returns false if any component is missing.
bool GetPath(const uint8_t* doc, size_t len, const Path& path, bson_iter_t* out);

}  // namespace docket::bson
