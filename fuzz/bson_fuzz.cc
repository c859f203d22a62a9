// Fuzz target: strict BSON validation (bson::ValidateBson, src/bson/validate.h)
// and Document::FromBytes. The input is one BSON document.
//
// Invariants (abort() when broken):
//   * FromBytes accepts exactly what ValidateBson accepts at the command depth
//     (200), and keeps the bytes unchanged;
//   * validation is monotone in the depth: what passes at the storage depth
//     (100) passes at 200; NestingDepth of an accepted document is at most the
//     depth it was accepted at and is at least 1;
//   * an accepted document can be walked entirely by libbson (every element
//     of every embedded document, array and code-with-scope), and libbson's
//     own bson_validate accepts it too when every key is UTF-8: bytes Docket
//     stores must be readable by the drivers. (libbson's is the weaker check,
//     as the header of validate.h says, except that its bson_iter_visit_all
//     refuses keys that are not UTF-8, which MongoDB and Docket accept.)
//   * ToJson of an accepted document does not crash.
#include <bson/bson.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "bson/validate.h"
#include "fuzz_util.h"

using docket_fuzz::Fail;

namespace {

// Walks every element with an explicit stack (no recursion: depth is bounded
// by validation, but a stack overflow would hide the real finding). Returns
// whether every key is UTF-8. libbson declares bson_iter_t 128-byte aligned
// but 80 bytes long, so an array of them is misaligned: each gets a slot.
bool WalkAll(const uint8_t* data, size_t size) {
  constexpr int kMaxFrames = 512;
  struct alignas(128) Slot {
    bson_iter_t iter;
  };
  static Slot stack[kMaxFrames];
  bool keys_utf8 = true;
  int top = 0;
  if (!bson_iter_init_from_data(&stack[0].iter, data, size)) Fail("libbson cannot open an accepted document");
  while (top >= 0) {
    bson_iter_t* it = &stack[top].iter;
    if (!bson_iter_next(it)) {
      if (it->err_off != 0) Fail("libbson stops inside an accepted document at offset %u", it->err_off);
      --top;
      continue;
    }
    const char* key = bson_iter_key(it);
    if (!bson_utf8_validate(key, std::strlen(key), false)) keys_utf8 = false;
    const uint8_t* sub = nullptr;
    uint32_t sub_len = 0;
    switch (bson_iter_type(it)) {
      case BSON_TYPE_DOCUMENT: bson_iter_document(it, &sub_len, &sub); break;
      case BSON_TYPE_ARRAY: bson_iter_array(it, &sub_len, &sub); break;
      case BSON_TYPE_CODEWSCOPE: {
        uint32_t code_len = 0;
        (void)bson_iter_codewscope(it, &code_len, &sub_len, &sub);
        break;
      }
      case BSON_TYPE_UTF8: {
        uint32_t len = 0;
        if (bson_iter_utf8(it, &len) == nullptr) Fail("libbson cannot read an accepted string");
        break;
      }
      default: break;
    }
    if (sub != nullptr) {
      if (top + 1 >= kMaxFrames) Fail("an accepted document nests deeper than %d", kMaxFrames);
      ++top;
      if (!bson_iter_init_from_data(&stack[top].iter, sub, sub_len)) Fail("libbson cannot open an accepted sub-document");
    }
  }
  return keys_utf8;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);  // exact size for ASan
  const bool at_storage = docket::bson::ValidateBson(bytes.data(), bytes.size(), docket::bson::kMaxStorageDepth).ok();
  const docket::Status at_command = docket::bson::ValidateBson(bytes.data(), bytes.size());
  const bool shallow = docket::bson::ValidateBson(bytes.data(), bytes.size(), 2).ok();
  if (at_storage && !at_command.ok()) Fail("valid at depth 100 but not at 200: %s", at_command.ToString().c_str());
  if (shallow && !at_storage) Fail("valid at depth 2 but not at 100");

  auto doc = docket::Document::FromBytes(bytes.data(), bytes.size());
  if (doc.ok() != at_command.ok()) Fail("FromBytes and ValidateBson disagree");
  if (!doc.ok()) return 0;
  if (doc->size() != size || std::memcmp(doc->data(), data, size) != 0) Fail("FromBytes changed the bytes");

  const int depth = docket::bson::NestingDepth(bytes.data(), bytes.size());
  if (depth < 1 || depth > docket::bson::kMaxCommandDepth) Fail("NestingDepth %d of an accepted document", depth);
  if (at_storage != (depth <= docket::bson::kMaxStorageDepth)) {
    Fail("NestingDepth %d disagrees with validation at depth 100 (%d)", depth, at_storage);
  }

  const bool keys_utf8 = WalkAll(bytes.data(), bytes.size());
  bson_t b;
  if (!bson_init_static(&b, bytes.data(), bytes.size())) Fail("bson_init_static refused an accepted document");
  size_t offset = 0;
  if (!bson_validate(&b, BSON_VALIDATE_NONE, &offset) && keys_utf8) Fail("libbson's bson_validate refuses it at offset %zu", offset);
  (void)doc->ToJson();
  return 0;
}
