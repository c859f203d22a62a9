#include "text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace docket::text {

// Owns the compiled pattern. pcre2_code is read-only after compilation and
// JIT compilation, so sharing it between threads is safe; each match makes
// its own match data.
struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

Result<Regex> Regex::Compile(std::string_view pattern, std::string_view options) {
  if (pattern.find('\0') != std::string_view::npos) {
    return Status(ErrorCode::kBadValue, "Regular expression cannot contain an embedded null byte");
  }
  uint32_t flags = PCRE2_UTF;
  for (char c : options) {
    switch (c) {
      case 'i': flags |= PCRE2_CASELESS; break;
      case 'm': flags |= PCRE2_MULTILINE; break;
      case 's': flags |= PCRE2_DOTALL; break;
      case 'x': flags |= PCRE2_EXTENDED; break;
      case 'u': break;
      default:
        return Status(ErrorCode::kInvalidRegexOptions,
                      std::string("invalid flag in regex options: ") + (c == '\0' ? std::string("\\0") : std::string(1, c)));
    }
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), flags,
                                   &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return Status(ErrorCode::kInvalidRegex, "Regular expression is invalid: " +
                                                std::string(reinterpret_cast<const char*>(message)));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // an optimisation; matching works without it
  Regex out;
  out.code_ = std::make_unique<Code>();
  out.code_->code = code;
  out.pattern_ = std::string(pattern);
  out.options_ = std::string(options);
  return out;
}

namespace {

thread_local Status* g_match_error_sink = nullptr;

// PCRE2 stopped without an answer (not "no match", not a bad UTF-8 subject).
bool GaveUp(int rc) {
  return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
         rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

Status GaveUpError(const std::string& pattern, int rc) {
  PCRE2_UCHAR text[256];
  pcre2_get_error_message(rc, text, sizeof(text));
  return Status(ErrorCode::kBadValue, "Error while matching the regular expression /" + pattern + "/: " +
                                          reinterpret_cast<const char*>(text));
}

}  // namespace

MatchErrorScope::MatchErrorScope(Status* sink) : previous_(g_match_error_sink) { g_match_error_sink = sink; }
MatchErrorScope::~MatchErrorScope() { g_match_error_sink = previous_; }

bool Regex::Matches(std::string_view subject) const {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  if (data == nullptr) {
    if (g_match_error_sink != nullptr && g_match_error_sink->ok()) {
      *g_match_error_sink = Status(ErrorCode::kInternalError, "out of memory matching a regular expression");
    }
    return false;
  }
  // Strings from documents may hold invalid UTF-8; PCRE2 then reports an
  // error (negative), which counts as no match, as in MongoDB.
  int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, data,
                       nullptr);
  pcre2_match_data_free(data);
  if (GaveUp(rc) && g_match_error_sink != nullptr && g_match_error_sink->ok()) {
    *g_match_error_sink = GaveUpError(pattern_, rc);
  }
  return rc >= 0;
}

bool Regex::Find(std::string_view subject, size_t start, std::vector<Span>* groups, Status* error) const {
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code_->code, nullptr);
  if (data == nullptr) {
    *error = Status(ErrorCode::kInternalError, "out of memory matching a regular expression");
    return false;
  }
  int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), start, 0, data,
                       nullptr);
  if (rc < 0) {
    pcre2_match_data_free(data);
    if (GaveUp(rc)) *error = GaveUpError(pattern_, rc);
    return false;
  }
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
  const int groups_total = capture_count() + 1;
  groups->assign(groups_total, Span());
  for (int i = 0; i < groups_total && i < rc; ++i) {
    if (ovector[2 * i] == PCRE2_UNSET) continue;
    (*groups)[i] = Span{ovector[2 * i], ovector[2 * i + 1]};
  }
  pcre2_match_data_free(data);
  return true;
}

int Regex::capture_count() const {
  uint32_t n = 0;
  pcre2_pattern_info(code_->code, PCRE2_INFO_CAPTURECOUNT, &n);
  return static_cast<int>(n);
}

}  // namespace docket::text
