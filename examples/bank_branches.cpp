// The second seed done right: accounts live in one collection per branch,
// and every request takes the handle of the branch it works on. Handles are
// values bound to one collection, so concurrent requests for different
// branches cannot redirect each other's writes (the switch_collection bug).
// Balances are Decimal128 (and integer cents), never double.
//
//   bank_branches [uri]      (default docket:memory)
//
// Exits 0 when every branch's balance is exactly what was paid into it.
#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "docket/odm.h"

struct BankAccount {
  std::string account_number;
  docket::Decimal128 balance;
  int64_t balance_cents = 0;
};
BOOST_DESCRIBE_STRUCT(BankAccount, (), (account_number, balance, balance_cents))
DOCKET_PRIMARY_KEY(BankAccount, account_number)

int main(int argc, char** argv) {
  using namespace docket::odm;
  using docket::Decimal128;
  const std::string uri = argc > 1 ? argv[1] : "docket:memory";
  Client client = Client::Open(uri);
  Database db = client.Database("example_bank_branches");
  db.Drop();
  constexpr int kBranches = 8, kThreads = 16, kPerThread = 200;
  auto branch = [&](int b) { return db.Collection<BankAccount>("branch" + std::to_string(b)); };
  for (int b = 0; b < kBranches; ++b) {
    BankAccount acct{"42", Decimal128(0), 0};
    branch(b).InsertOne(acct);
  }
  std::vector<std::atomic<int64_t>> paid(kBranches);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kPerThread; ++i) {
        int b = static_cast<int>(rng() % kBranches);
        int64_t cents = static_cast<int64_t>(rng() % 10000) + 1;
        // increment_balance(branch, account, amount), the switchless way.
        auto amount = Decimal128::FromString(std::to_string(cents / 100) + "." + std::to_string(100 + cents % 100).substr(1));
        branch(b).UpdateOne(field(&BankAccount::account_number) == "42",
                            inc(&BankAccount::balance, *amount) + inc(&BankAccount::balance_cents, cents));
        paid[b] += cents;
      }
    });
  }
  for (auto& t : threads) t.join();
  int wrong = 0;
  for (int b = 0; b < kBranches; ++b) {
    BankAccount acct = *branch(b).FindOne();
    auto expected = Decimal128::FromString(std::to_string(paid[b] / 100) + "." + std::to_string(100 + paid[b] % 100).substr(1));
    bool ok = acct.balance_cents == paid[b] && acct.balance == *expected;
    wrong += ok ? 0 : 1;
    std::printf("branch%d: balance %s (%lld cents), paid in %lld cents %s\n", b, acct.balance.ToString().c_str(),
                static_cast<long long>(acct.balance_cents), static_cast<long long>(paid[b].load()), ok ? "ok" : "WRONG");
  }
  db.Drop();
  return wrong == 0 ? 0 : 1;
}
