// Compiles: the well-typed counterparts of the mistakes next to it (the
// harness checks this one builds, so the failures are the mistakes'.)
#include "../models.h"
using namespace docket::odm;
using models::Account;
int main() {
  auto f = field(&Account::cents) > 5 && field(&Account::owner) == "x" && field(&Account::balance) > 0;
  auto u = inc(&Account::cents, 1) + inc(&Account::balance, docket::Decimal128(2)) + set(&Account::owner, "y") +
           unset(&Account::note) + push(&Account::tags, "t") + max(&Account::cents, 3);
  return f.document().empty() || u.document().empty();
}
