// Regular expressions with MongoDB's semantics, on PCRE2 (MongoDB uses PCRE):
// UTF-8 patterns, options i (caseless), m (multiline), s (dot matches
// newline), x (extended), u (accepted; UTF-8 is always on).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "docket/status.h"

namespace docket::text {

// Immutable once compiled; Matches may be called from any number of threads.
class Regex {
 public:
  // Errors: BadValue (2) for a NUL in the pattern, Location51108 for an
  // unknown option letter, Location51091 for a pattern PCRE2 rejects.
  static Result<Regex> Compile(std::string_view pattern, std::string_view options);

  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  ~Regex();

  // Whether the pattern matches. A subject that is not valid UTF-8 does not
  // match (as in MongoDB). When PCRE2 gives up (its match, depth or heap
  // limit: a pattern that backtracks catastrophically), that is an error,
  // not "no match": it goes to the innermost MatchErrorScope of this thread,
  // and false is returned.
  bool Matches(std::string_view subject) const;

  // One match found by Find: byte offsets into the subject. A capture group
  // that took no part in the match has begin == npos.
  struct Span {
    size_t begin = std::string_view::npos;
    size_t end = std::string_view::npos;
  };
  // The first match at or after byte `start`: groups[0] is the whole match,
  // groups[i] capture i. Returns false when there is none (or the subject is
  // not valid UTF-8). When PCRE2 gives up, sets *error (BadValue) and
  // returns false.
  bool Find(std::string_view subject, size_t start, std::vector<Span>* groups, Status* error) const;
  // Number of capture groups in the pattern.
  int capture_count() const;

  const std::string& pattern() const { return pattern_; }
  const std::string& options() const { return options_; }

 private:
  Regex() = default;
  struct Code;
  std::unique_ptr<Code> code_;
  std::string pattern_;
  std::string options_;
};

// While alive, a Regex::Matches on this thread that PCRE2 gives up on
// records its error in *sink (the first one only). Scopes nest; the innermost
// one gets the error. Filter evaluation opens one (query::Filter::Evaluate).
class MatchErrorScope {
 public:
  explicit MatchErrorScope(Status* sink);
  ~MatchErrorScope();
  MatchErrorScope(const MatchErrorScope&) = delete;
  MatchErrorScope& operator=(const MatchErrorScope&) = delete;

 private:
  Status* previous_;
};

}  // namespace docket::text
