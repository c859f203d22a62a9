#include "expr/let.h"

namespace docket::expr {

Status BindLet(const Document& let, Scope& scope, int64_t now_millis, Bindings* bindings) {
  bson_iter_t it;
  let.Iterate(&it);
  while (bson_iter_next(&it)) {
    auto e = Parse(it, scope);
    if (!e.ok()) return e.status();
    Variables vars;
    vars.SetNow(now_millis);
    for (const auto& [slot, value] : *bindings) vars.Set(slot, value);
    auto v = (*e)->Evaluate(vars);
    if (!v.ok()) return v.status();
    auto slot = scope.Define(std::string_view(bson_iter_key(&it), bson_iter_key_len(&it)));
    if (!slot.ok()) return slot.status();
    bindings->emplace_back(*slot, v->Owned());
  }
  return Status::OK();
}

}  // namespace docket::expr
