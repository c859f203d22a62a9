#include "update/array_filters.h"

#include <cctype>

#include "bson/value.h"
#include "bson/append_element.h"

namespace docket::update {
namespace {

bool IsIdentifier(std::string_view s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<ArrayFilters> ArrayFilters::Compile(const std::vector<Document>& filters, query::StringOrderPtr strings) {
  ArrayFilters out;
  out.strings_ = strings;
  for (const Document& filter : filters) {
    std::string identifier;
    Condition condition;
    bson_t fields = BSON_INITIALIZER;
    bool has_fields = false;
    bson_iter_t it;
    filter.Iterate(&it);
    Status error;
    while (error.ok() && bson_iter_next(&it)) {
      std::string key(bson_iter_key(&it), bson_iter_key_len(&it));
      size_t dot = key.find('.');
      std::string head = key.substr(0, dot);
      if (!IsIdentifier(head)) {
        error = Status(ErrorCode::kBadValue,
                       "Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric "
                       "string beginning with a lowercase letter, found '" + head + "'");
        break;
      }
      if (!identifier.empty() && identifier != head) {
        error = Status(ErrorCode::kFailedToParse,
                       "Error parsing array filter :: caused by :: Expected a single top-level field name, found '" +
                           identifier + "' and '" + head + "'");
        break;
      }
      identifier = head;
      if (dot == std::string::npos) {
        auto matcher = query::ElementMatcher::Compile(it, /*documents_are_filters=*/false, strings.get());
        if (!matcher.ok()) {
          error = matcher.status();
          break;
        }
        condition.on_value.push_back(std::make_shared<const query::ElementMatcher>(std::move(matcher).value()));
      } else {
        std::string rest = key.substr(dot + 1);
        docket::bson::AppendElement(&fields, rest.c_str(), static_cast<int>(rest.size()), &it);
        has_fields = true;
      }
    }
    if (error.ok() && has_fields) {
      auto doc = Document::FromBson(&fields);
      auto compiled = doc.ok() ? query::Filter::Compile(*doc, nullptr, strings) : Result<query::Filter>(doc.status());
      if (!compiled.ok()) error = compiled.status();
      else condition.on_fields = std::make_shared<const query::Filter>(std::move(compiled).value());
    }
    bson_destroy(&fields);
    if (!error.ok()) return error;
    if (identifier.empty()) {
      return Status(ErrorCode::kFailedToParse, "Cannot use an expression without a top-level field name in arrayFilters");
    }
    if (out.by_identifier_.count(identifier)) {
      return Status(ErrorCode::kFailedToParse,
                    "Found multiple array filters with the same top-level field name " + identifier);
    }
    out.by_identifier_.emplace(identifier, std::move(condition));
  }
  return out;
}

std::vector<std::string> ArrayFilters::Identifiers() const {
  std::vector<std::string> out;
  for (const auto& [id, condition] : by_identifier_) out.push_back(id);
  return out;
}

bool ArrayFilters::Matches(const std::string& identifier, const bson_iter_t& element) const {
  const Condition& c = by_identifier_.at(identifier);
  for (const auto& m : c.on_value) {
    if (!m->Matches(element)) return false;
  }
  if (c.on_fields == nullptr) return true;
  if (bson_iter_type(&element) != BSON_TYPE_DOCUMENT) return false;
  std::string_view bytes = bson::SubDocumentBytes(element);
  return c.on_fields->Matches(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace docket::update
