// Fuzz target: the order-preserving key encoding (bson::AppendKeyValue,
// src/bson/key_encoding.h) against BSON comparison (bson::CompareValues,
// src/bson/value.h). Record keys and index keys are built from it, so an
// encoding that orders two values differently from CompareValues puts index
// entries in the wrong place (range scans miss documents) and one that maps
// two unequal values to one key makes distinct _ids collide.
// Input: BSON documents (fuzz_util.h); every top-level value of each (up to
// 24 values in all) is a value under test, and so is the null that a missing
// field encodes to (AppendKeyNull).
//
// Invariants (abort() when broken), for every pair of values a, b:
//   * sign(memcmp(key(a), key(b))) == sign(CompareValues(a, b)): equal
//     values, and only they, have equal keys (the key stands for the value's
//     equivalence class, which is the round trip that matters: there is no
//     decoder), and the keys sort as the values do;
//   * CompareValues(a, b) == -CompareValues(b, a), CompareValues(a, a) == 0;
//   * for two numbers, CompareNumbers has the sign of CompareValues;
//   * encoding is deterministic.
#include <bson/bson.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bson/key_encoding.h"
#include "bson/value.h"
#include "fuzz_util.h"

using docket_fuzz::Fail;

namespace {

int Sign(int v) { return (v > 0) - (v < 0); }

int CompareKeys(const std::string& a, const std::string& b) { return Sign(a.compare(b)); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<docket::Document> docs = docket_fuzz::SplitDocuments(data, size, 4);
  // Each value held as {"": value} (bson_iter_t is 128-byte aligned: not
  // something to keep in a vector).
  std::vector<std::string> held;
  for (const docket::Document& doc : docs) {
    bson_iter_t it;
    doc.Iterate(&it);
    while (held.size() < 24 && bson_iter_next(&it)) held.push_back(docket::bson::HoldValue(it));
  }
  if (held.empty()) return 0;
  // The null value, to compare AppendKeyNull's key with.
  static const docket::Document null_doc = *docket::Document::FromJson(R"({"": null})");
  bson_iter_t null_value;
  null_doc.Find("", &null_value);

  std::vector<std::string> keys;
  for (const std::string& h : held) {
    bson_iter_t v;
    docket::bson::IterHeldValue(h, &v);
    std::string key;
    docket::bson::AppendKeyValue(&key, v);
    std::string again;
    docket::bson::AppendKeyValue(&again, v);
    if (key != again) Fail("encoding of %s is not deterministic", docket::bson::ValueToJson(v).c_str());
    keys.push_back(std::move(key));
  }
  std::string null_key;
  docket::bson::AppendKeyNull(&null_key);

  for (size_t i = 0; i < held.size(); ++i) {
    bson_iter_t a;
    docket::bson::IterHeldValue(held[i], &a);
    if (docket::bson::CompareValues(a, a) != 0) Fail("%s != itself", docket::bson::ValueToJson(a).c_str());
    const int vs_null = Sign(docket::bson::CompareValues(a, null_value));
    if (CompareKeys(keys[i], null_key) != vs_null) {
      Fail("AppendKeyNull orders against %s as %d, CompareValues with null says %d",
           docket::bson::ValueToJson(a).c_str(), CompareKeys(keys[i], null_key), vs_null);
    }
    for (size_t j = i + 1; j < held.size(); ++j) {
      bson_iter_t b;
      docket::bson::IterHeldValue(held[j], &b);
      const int ab = Sign(docket::bson::CompareValues(a, b));
      const int ba = Sign(docket::bson::CompareValues(b, a));
      if (ab != -ba) {
        Fail("CompareValues is not antisymmetric: %s vs %s gives %d and %d", docket::bson::ValueToJson(a).c_str(),
             docket::bson::ValueToJson(b).c_str(), ab, ba);
      }
      const int keys_ab = CompareKeys(keys[i], keys[j]);
      if (keys_ab != ab) {
        Fail("key order %d but CompareValues %d for %s vs %s", keys_ab, ab, docket::bson::ValueToJson(a).c_str(),
             docket::bson::ValueToJson(b).c_str());
      }
      if (docket::bson::IsNumber(bson_iter_type(&a)) && docket::bson::IsNumber(bson_iter_type(&b))) {
        const int numbers = Sign(docket::bson::CompareNumbers(a, b));
        if (numbers != ab) {
          Fail("CompareNumbers %d but CompareValues %d for %s vs %s", numbers, ab,
               docket::bson::ValueToJson(a).c_str(), docket::bson::ValueToJson(b).c_str());
        }
      }
    }
  }
  return 0;
}
