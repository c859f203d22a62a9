// Owned libbson documents and Extended JSON conversion for the data-moving
// commands (dump, restore, export, import). These commands are MongoDB
// clients: they speak to any server through libmongoc, so they use libbson's
// bson_t rather than the engine's own Document.
#pragma once

#include <bson/bson.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace docket::transfer {

// Every failure of a data-moving command: its message is printed as the
// command's last line ("error: ...") and the command exits 1.
class TransferError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BsonDeleter {
  void operator()(bson_t* b) const { bson_destroy(b); }
};
// An owned bson_t (heap-allocated by libbson: bson_new, bson_copy, ...).
using BsonPtr = std::unique_ptr<bson_t, BsonDeleter>;

inline BsonPtr NewBson() { return BsonPtr(bson_new()); }
inline BsonPtr CopyBson(const bson_t* b) { return BsonPtr(bson_copy(b)); }

enum class JsonForm { kCanonical, kRelaxed };

// Extended JSON v2 text of `doc` (no trailing newline).
std::string ToJson(const bson_t* doc, JsonForm form);

// Parses Extended JSON (canonical, relaxed or legacy forms; libbson accepts
// them all). Throws TransferError naming `what` on malformed text.
BsonPtr FromJson(const std::string& text, const std::string& what);

// The string at `key` of `doc`, or `fallback` when absent or not a string.
std::string StringField(const bson_t* doc, const char* key, const std::string& fallback = "");

}  // namespace docket::transfer
