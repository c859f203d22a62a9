// The README's embedded-engine snippet, as a program: an atomic counter that
// concurrent calls share. Exits 0 when the counter reads 1, then 2.
#include <docket/engine.h>

#include <cstdio>

int main() {
  auto engine = docket::Engine::Open({.path = "", .in_memory = true});
  if (!engine.ok()) return 1;
  docket::Collection counters = (*engine)->collection("app", "counters");

  docket::FindAndModifyOptions next;
  next.upsert = true;
  next.return_document = docket::ReturnDocument::kAfter;
  for (int expected = 1; expected <= 2; ++expected) {
    auto counter = counters.FindOneAndUpdate(*docket::Document::FromJson(R"({"_id": "orders"})"),
                                             *docket::Document::FromJson(R"({"$inc": {"n": 1}})"), next);
    if (!counter.ok() || !*counter) return 2;
    bson_iter_t n;
    if (!(*counter)->Find("n", &n) || bson_iter_as_int64(&n) != expected) return 3;
  }
  std::puts("engine snippet: ok");
  return 0;
}
