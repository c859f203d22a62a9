#include "text/text_index_spec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_map>

#include "bson/builder.h"
#include "bson/path.h"
#include "bson/value.h"
#include "text/text_tokenizer.h"

namespace docket::text {
namespace {

Status CannotCreate(std::string message) { return Status(ErrorCode::kCannotCreateIndex, std::move(message)); }

std::string_view Key(const bson_iter_t& it) { return {bson_iter_key(&it), bson_iter_key_len(&it)}; }

bool IsTextValue(const bson_iter_t& it) {
  return BSON_ITER_HOLDS_UTF8(&it) && std::string_view(bson_iter_utf8(&it, nullptr)) == "text";
}

std::string StringOf(const bson_iter_t& it) {
  uint32_t len = 0;
  const char* s = bson_iter_utf8(&it, &len);
  return std::string(s, len);
}

// The weight of a field: truncated to an integer, in (0, 100000).
Result<int64_t> WeightOf(const bson_iter_t& it) {
  if (!bson::IsNumber(bson_iter_type(&it))) return CannotCreate("weight for text index needs numeric type");
  const double d = bson::NumberAsDouble(it);
  const int64_t weight = std::isfinite(d) ? static_cast<int64_t>(std::clamp(d, -1e12, 1e12)) : 0;
  if (weight <= 0 || weight >= 100000) {
    return CannotCreate("text index weight must be in the exclusive interval (0,100000) but found: " +
                        std::to_string(weight));
  }
  return weight;
}

Status CheckWeightPath(std::string_view path) {
  if (path == "$**") return Status::OK();
  if (path.empty()) return CannotCreate("weight cannot be on an empty field");
  for (const std::string& part : bson::SplitPath(path)) {
    if (part.empty()) return CannotCreate("weight cannot have empty path component");
    if (part[0] == '$') return CannotCreate("weight cannot have path component with $ prefix");
  }
  return Status::OK();
}

// Scores one string's terms into *scores (see TermScores).
void ScoreString(std::string_view value, double weight, const TextLanguage& language,
                 std::map<std::string, double>* scores) {
  std::unordered_map<std::string, int> counts;
  std::vector<std::string> order;
  int total = 0;
  ForEachTerm(value, language, TokenOptions{}, [&](std::string term) {
    ++total;
    auto [at, added] = counts.emplace(term, 0);
    if (added) order.push_back(term);
    ++at->second;
  });
  for (const std::string& term : order) {
    const int c = counts[term];
    const double frequency = 2.0 - std::pow(2.0, 1.0 - c);
    const double coefficient = 0.5 + 0.5 * c / total;
    bool whole = value.size() == term.size();
    for (size_t i = 0; whole && i < value.size(); ++i) {
      whole = std::tolower(static_cast<unsigned char>(value[i])) == static_cast<unsigned char>(term[i]);
    }
    (*scores)[term] += weight * frequency * coefficient * (whole ? 1.1 : 1.0);
  }
}

}  // namespace

const TextLanguage* FindTextLanguageIgnoringCase(std::string_view name) {
  std::string lower;
  for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return FindTextLanguage(lower);
}

bool IsTextKeyPattern(const Document& key) {
  bson_iter_t it;
  key.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (IsTextValue(it) || Key(it) == "_fts") return true;
  }
  return false;
}

Result<Document> NormalizeTextIndex(const Document& key, const Document& spec, Document* options) {
  // The key: prefix fields, then the text fields (or _fts, _ftsx), then suffix fields.
  enum class Part { kPrefix, kText, kSuffix } part = Part::kPrefix;
  std::vector<std::pair<std::string, int>> prefix, suffix;
  std::vector<std::string> text_fields;
  bool stored_form = false;
  bson_iter_t it;
  key.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string name(Key(it));
    if (name == "_fts") {
      if (!IsTextValue(it)) return CannotCreate("expecting _fts:\"text\"");
      if (part != Part::kPrefix) return CannotCreate("'text' fields in index must all be adjacent");
      if (!bson_iter_next(&it) || Key(it) != "_ftsx") return CannotCreate("expected _ftsx after _fts");
      if (!bson::IsNumber(bson_iter_type(&it)) || bson::NumberAsDouble(it) != 1) {
        return CannotCreate("expecting _ftsx:1");
      }
      stored_form = true;
      part = Part::kSuffix;
      continue;
    }
    if (name == "_ftsx") return CannotCreate("text index with reserved fields _fts/_ftsx not allowed");
    if (IsTextValue(it)) {
      if (part == Part::kSuffix) return CannotCreate("'text' fields in index must all be adjacent");
      part = Part::kText;
      text_fields.push_back(name);
      continue;
    }
    if (!bson::IsNumber(bson_iter_type(&it))) {
      return CannotCreate("Can't use more than one index plugin for a single index.");
    }
    const int64_t direction = static_cast<int64_t>(bson::NumberAsDouble(it));
    if (direction != 1 && direction != -1) {
      return CannotCreate("expected value 1 or -1 for non-text key in compound index");
    }
    if (part == Part::kText) part = Part::kSuffix;
    (part == Part::kPrefix ? prefix : suffix).emplace_back(name, static_cast<int>(direction));
  }
  if (part == Part::kPrefix) return CannotCreate("expected additional fields in text index key pattern");

  // The options.
  std::map<std::string, int64_t> weights;
  for (const std::string& field : text_fields) weights[field] = 1;
  std::string default_language = "english", language_override = "language";
  int64_t version = 3;
  bool has_weights = false;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string_view name = Key(it);
    if (name == "weights") {
      has_weights = true;
      if (BSON_ITER_HOLDS_UTF8(&it) && StringOf(it) == "$**") {
        weights.emplace("$**", 1);
        continue;
      }
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return CannotCreate("text index option 'weights' must be an object");
      bson_iter_t w;
      bson_iter_recurse(&it, &w);
      while (bson_iter_next(&w)) {
        std::string path(Key(w));
        DOCKET_RETURN_IF_ERROR(CheckWeightPath(path));
        auto weight = WeightOf(w);
        if (!weight.ok()) return weight.status();
        weights[path] = path == "$**" ? 1 : *weight;  // a weight on $** is accepted and not used
      }
    } else if (name == "default_language") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return CannotCreate("default_language needs a string type");
      default_language = StringOf(it);
      if (FindTextLanguageIgnoringCase(default_language) == nullptr) {
        return CannotCreate("default_language is not valid");
      }
    } else if (name == "language_override") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return CannotCreate("language_override must be a string");
      language_override = StringOf(it);
      if (language_override.empty() || language_override[0] == '$' ||
          language_override.find('.') != std::string::npos) {
        return CannotCreate("language_override is not valid");
      }
    } else if (name == "textIndexVersion") {
      if (!bson::IsNumber(bson_iter_type(&it))) {
        return CannotCreate("text index option 'textIndexVersion' must be a number");
      }
      version = static_cast<int64_t>(bson::NumberAsDouble(it));
      if (version != 3) {
        return CannotCreate("bad textIndexVersion: " + std::to_string(version) +
                            " (Docket builds textIndexVersion 3 only)");
      }
    }
  }
  for (const auto& [name, direction] : prefix) {
    if (name == "_fts" || name == "_ftsx") return CannotCreate("text index with reserved fields _fts/_ftsx not allowed");
  }
  if (weights.empty()) {
    return CannotCreate(has_weights || stored_form ? "text index option 'weights' must specify fields or the wildcard"
                                                   : "expected additional fields in text index key pattern");
  }

  bson::Builder out;
  for (const auto& [name, direction] : prefix) BSON_APPEND_INT32(out.get(), name.c_str(), direction);
  BSON_APPEND_UTF8(out.get(), "_fts", "text");
  BSON_APPEND_INT32(out.get(), "_ftsx", 1);
  for (const auto& [name, direction] : suffix) BSON_APPEND_INT32(out.get(), name.c_str(), direction);
  bson::Builder opts;
  bson_t w;
  BSON_APPEND_DOCUMENT_BEGIN(opts.get(), "weights", &w);
  for (const auto& [path, weight] : weights) BSON_APPEND_INT32(&w, path.c_str(), static_cast<int32_t>(weight));
  bson_append_document_end(opts.get(), &w);
  BSON_APPEND_UTF8(opts.get(), "default_language", default_language.c_str());
  BSON_APPEND_UTF8(opts.get(), "language_override", language_override.c_str());
  BSON_APPEND_INT32(opts.get(), "textIndexVersion", static_cast<int32_t>(version));
  *options = opts.Finish();
  return out.Finish();
}

Result<std::shared_ptr<const TextIndexSpec>> TextIndexSpec::FromIndexSpec(const Document& spec) {
  auto out = std::make_shared<TextIndexSpec>();
  out->default_language_ = FindTextLanguage("english");
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string_view name = Key(it);
    if (name == "key" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      bson_iter_t k;
      bson_iter_recurse(&it, &k);
      bool after = false;
      while (bson_iter_next(&k)) {
        std::string field(Key(k));
        if (field == "_fts") after = true;
        else if (field != "_ftsx") (after ? out->suffix_fields_ : out->prefix_fields_).push_back(field);
      }
    } else if (name == "weights" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      bson_iter_t w;
      bson_iter_recurse(&it, &w);
      while (bson_iter_next(&w)) {
        out->weights_[std::string(Key(w))] = bson::NumberAsDouble(w);
        if (Key(w) == "$**") out->wildcard_ = true;
      }
    } else if (name == "default_language" && BSON_ITER_HOLDS_UTF8(&it)) {
      std::string language = StringOf(it);
      out->default_language_ = FindTextLanguageIgnoringCase(language);
      if (out->default_language_ == nullptr) {
        return Status(static_cast<ErrorCode>(28682), "Unrecognized language " + language +
                                                         " found for text index. Verify mongod was started with the "
                                                         "correct options.");
      }
    } else if (name == "language_override" && BSON_ITER_HOLDS_UTF8(&it)) {
      out->language_override_ = StringOf(it);
    }
  }
  return std::shared_ptr<const TextIndexSpec>(std::move(out));
}

namespace {

// The walk of ForEachString through one document (or array) value.
class StringWalk {
 public:
  StringWalk(const TextIndexSpec& spec, const std::map<std::string, double>& weights,
             const TextIndexSpec::StringVisitor& fn)
      : spec_(spec), weights_(weights), fn_(fn) {}

  // `bytes`: a document (or array, `is_array`) at `path` ("" at the root).
  Status Visit(std::string_view bytes, const std::string& path, bool is_array, const TextLanguage* language) {
    bson_iter_t it;
    if (!bson_iter_init_from_data(&it, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) {
      return Status::OK();
    }
    if (!is_array) {
      bson_iter_t scan = it;
      while (bson_iter_next(&scan)) {
        if (Key(scan) != spec_.language_override()) continue;
        if (!BSON_ITER_HOLDS_UTF8(&scan)) {
          return Status(static_cast<ErrorCode>(17261), "found language override field in document with non-string type");
        }
        std::string name = StringOf(scan);
        language = FindTextLanguageIgnoringCase(name);
        if (language == nullptr) return Status(static_cast<ErrorCode>(17262), "language override unsupported: " + name);
        break;
      }
    }
    while (bson_iter_next(&it)) {
      std::string child = is_array ? path : (path.empty() ? std::string(Key(it)) : path + "." + std::string(Key(it)));
      if (!is_array && spec_.wildcard() && Key(it) == spec_.language_override()) continue;
      const bson_type_t type = bson_iter_type(&it);
      if (spec_.wildcard()) {
        if (type == BSON_TYPE_UTF8) {
          auto weight = weights_.find(child);
          uint32_t len = 0;
          const char* s = bson_iter_utf8(&it, &len);
          fn_(std::string_view(s, len), weight == weights_.end() ? 1.0 : weight->second, *language);
        } else if (type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY) {
          DOCKET_RETURN_IF_ERROR(Visit(bson::SubDocumentBytes(it), child, type == BSON_TYPE_ARRAY, language));
        }
        continue;
      }
      auto weight = weights_.find(child);
      if (weight != weights_.end()) {
        if (type == BSON_TYPE_UTF8) {
          uint32_t len = 0;
          const char* s = bson_iter_utf8(&it, &len);
          fn_(std::string_view(s, len), weight->second, *language);
          continue;
        }
        if (type == BSON_TYPE_ARRAY && !is_array) {
          DOCKET_RETURN_IF_ERROR(Visit(bson::SubDocumentBytes(it), child, true, language));
          continue;
        }
      }
      // Go down only towards a weighted path.
      if ((type == BSON_TYPE_DOCUMENT || (type == BSON_TYPE_ARRAY && !is_array)) && LeadsToWeight(child)) {
        DOCKET_RETURN_IF_ERROR(Visit(bson::SubDocumentBytes(it), child, type == BSON_TYPE_ARRAY, language));
      }
    }
    return Status::OK();
  }

 private:
  bool LeadsToWeight(const std::string& path) const {
    const std::string below = path + ".";
    auto at = weights_.lower_bound(below);
    return at != weights_.end() && at->first.compare(0, below.size(), below) == 0;
  }

  const TextIndexSpec& spec_;
  const std::map<std::string, double>& weights_;
  const TextIndexSpec::StringVisitor& fn_;
};

}  // namespace

Status TextIndexSpec::ForEachString(std::string_view doc, const StringVisitor& fn) const {
  StringWalk walk(*this, weights_, fn);
  return walk.Visit(doc, "", false, default_language_);
}

Status TextIndexSpec::TermScores(std::string_view doc, std::map<std::string, double>* scores) const {
  scores->clear();
  return ForEachString(doc, [&](std::string_view value, double weight, const TextLanguage& language) {
    ScoreString(value, weight, language, scores);
  });
}

}  // namespace docket::text
