// One ODM suite, run three times: on the embedded engine (docket:memory),
// and over the wire (mongodb://) against `docket serve` processes this
// fixture starts: a standalone one (no transactions: gapless sequences and
// WithTransaction must refuse clearly) and a one-member replica set
// (--replica-set: everything runs, in the driver's transactions). Real
// engine, real server, real threads; no mocks.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "docket/odm/gtest.h"
#include "models.h"

namespace {

using namespace docket::odm;
using docket::Decimal128;
using docket::Error;
using docket::ErrorCode;
using docket::ObjectId;
using models::Account;
using models::Everything;
using models::Ticket;
using namespace docket::literals;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kPerThread = 20;  // a multiple of 20: the gapless test fails every tenth insert
#else
constexpr int kPerThread = 60;
#endif
constexpr int kThreads = 32;

// `docket serve --memory --port 0 [--replica-set rs0]`, started once per
// kind for the remote runs.
class ServeProcess {
 public:
  static ServeProcess& Standalone() {
    static ServeProcess server(false);
    return server;
  }
  static ServeProcess& ReplicaSet() {
    static ServeProcess server(true);
    return server;
  }
  const std::string& uri() const { return uri_; }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

 private:
  explicit ServeProcess(bool replica_set) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      if (replica_set) {
        execl(DOCKET_BIN, DOCKET_BIN, "serve", "--memory", "--port", "0", "--quiet", "--replica-set", "rs0", nullptr);
      } else {
        execl(DOCKET_BIN, DOCKET_BIN, "serve", "--memory", "--port", "0", "--quiet", nullptr);
      }
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[512] = {0};
    if (f != nullptr && fgets(line, sizeof(line), f) != nullptr) {
      std::string s(line);
      size_t at = s.find("port ");
      if (at != std::string::npos) {
        uri_ = "mongodb://127.0.0.1:" + std::to_string(std::stoi(s.substr(at + 5))) + "/" +
               (replica_set ? "?replicaSet=rs0" : "");
      }
    }
  }
  pid_t pid_ = -1;
  std::string uri_;
};

enum class Where { kEmbedded, kStandalone, kReplicaSet };

class OdmTest : public ::testing::TestWithParam<Where> {
 protected:
  void SetUp() override {
    if (GetParam() == Where::kEmbedded) {
      client_.emplace(Client::Open("docket:memory"));
    } else {
      ServeProcess& server = GetParam() == Where::kStandalone ? ServeProcess::Standalone() : ServeProcess::ReplicaSet();
      ASSERT_FALSE(server.uri().empty()) << "docket serve did not start";
      client_.emplace(Client::Open(server.uri()));
    }
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    name = "odm_" + name.substr(0, name.find('/'));
    db_.emplace(client_->Database(name.substr(0, 60)));
    db_->Drop();
  }
  void TearDown() override {
    if (db_) db_->Drop();
  }
  // A server without transactions (gapless sequences and WithTransaction refuse).
  bool standalone() const { return GetParam() == Where::kStandalone; }
  Database& db() { return *db_; }

  std::optional<Client> client_;
  std::optional<Database> db_;
};

Everything SampleEverything() {
  Everything e;
  e.id = ObjectId::Generate();
  e.flag = true;
  e.small = -7;
  e.big = int64_t{1} << 40;
  e.ratio = 0.25;
  e.name = "Ada";
  e.amount = "12.50"_dec;
  e.when = docket::Date(std::chrono::milliseconds(1700000000123));
  e.raw = *docket::Document::FromJson(R"({"free": [1, {"form": true}]})");
  e.maybe = 3;
  e.nullable = nullptr;
  e.tags = {"a", "b"};
  e.counts = {{"x", 1}, {"y", 2}};
  e.address = {"Oslo", std::nullopt};
  e.lines = {{"pen", 2, "1.10"_dec}, {"ink", 1, "4.00"_dec}};
  return e;
}

TEST(CodecTest, EveryTypeRoundTripsLosslessly) {
  Everything e = SampleEverything();
  e.rest.fields = *docket::Document::FromJson(R"({"extra": "kept", "more": {"n": 1}})");
  docket::Document doc = ToDocument(e);
  // _id first, the renamed member under its stored name, absent optionals absent.
  bson_iter_t it;
  doc.Iterate(&it);
  ASSERT_TRUE(bson_iter_next(&it));
  EXPECT_STREQ(bson_iter_key(&it), "_id");
  EXPECT_TRUE(doc.Find("full_name", &it));
  EXPECT_FALSE(doc.Find("name", &it));
  EXPECT_TRUE(doc.Find("extra", &it));
  auto back = FromDocument<Everything>(doc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == e) << doc.ToJson();
  EXPECT_EQ(ToDocument(*back), doc);
}

TEST(CodecTest, DocumentsThatDoNotFitNameTheField) {
  auto check = [](const std::string& json, ErrorCode code, const std::string& message) {
    auto decoded = FromDocument<Account>(*docket::Document::FromJson(json));
    ASSERT_FALSE(decoded.ok()) << json;
    EXPECT_EQ(decoded.status().code(), code) << json;
    EXPECT_EQ(decoded.status().message(), message) << json;
  };
  check(R"({"_id": "1", "owner": "a", "balance": "lots", "cents": 1})", ErrorCode::kTypeMismatch,
        "balance: expected a decimal or an integer, found a string");
  check(R"({"_id": "1", "owner": "a", "balance": 1, "cents": 1.5})", ErrorCode::kTypeMismatch,
        "cents: expected an int64, found a double (1.500000)");
  check(R"({"_id": "1", "balance": 1, "cents": 1})", ErrorCode::kNoSuchKey,
        "owner: the field is missing and the model requires it");
  check(R"({"_id": "1", "owner": "a", "balance": 1, "cents": 1, "tags": ["x", 2]})", ErrorCode::kTypeMismatch,
        "tags.1: expected a string, found an int32 (2)");
  auto nested = FromDocument<Everything>(*docket::Document::FromJson(
      R"({"_id": {"$oid": "5f0c2a7b8e1d2c3b4a596877"}, "flag": true, "small": 1, "big": 1, "ratio": 1, "full_name": "x",
          "amount": 1, "when": {"$date": 0}, "raw": {}, "nullable": null, "tags": [], "counts": {},
          "address": {"city": 5}, "lines": []})"));
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.status().message(), "address.city: expected a string, found an int32 (5)");
  // Lenient where nothing is lost: integral doubles into integers.
  auto lenient = FromDocument<Account>(*docket::Document::FromJson(R"({"_id": "1", "owner": "a", "balance": 2, "cents": 5.0})"));
  ASSERT_TRUE(lenient.ok()) << lenient.status().ToString();
  EXPECT_EQ(lenient->cents, 5);
}

TEST_P(OdmTest, CrudWithTypedFiltersAndUpdates) {
  auto accounts = db().Collection<Account>("accounts");
  std::vector<Account> batch = {{"1", "ADA", "10.00"_dec, 1000, std::nullopt, {"vip"}},
                                {"2", "Alan", "0"_dec, 0, "new", {}},
                                {"3", "grace", "250.50"_dec, 25050, std::nullopt, {"vip", "eu"}}};
  accounts.InsertMany(batch);
  EXPECT_EQ(batch[0].owner, "ada") << "clean() ran before the insert";
  EXPECT_EQ(accounts.Count(), 3);
  EXPECT_EQ(accounts.Count(field(&Account::balance) > 0), 2);
  EXPECT_EQ(accounts.Count(field(&Account::tags) == "vip" && field(&Account::cents) >= 2000), 1);
  EXPECT_EQ(accounts.Count(field(&Account::owner).in({"ada", "alan"}) || field(&Account::note).exists()), 2);
  EXPECT_EQ(accounts.Count(!(field(&Account::owner) == "ada")), 2);
  EXPECT_EQ(accounts.Count(field(&Account::owner).matches("^g")), 1);
  EXPECT_EQ(accounts.Count(field(&Account::tags).size(2)), 1);

  FindOptions<Account> by_balance;
  by_balance.sort.Descending(&Account::balance);
  std::vector<std::string> order;
  for (const Account& a : accounts.Find({}, by_balance)) order.push_back(a.number);
  EXPECT_EQ(order, (std::vector<std::string>{"3", "1", "2"}));

  auto r = accounts.UpdateOne(field(&Account::number) == "2", inc(&Account::balance, "5.25"_dec) +
                                                                  inc(&Account::cents, 525) + set(&Account::note, "paid") +
                                                                  push(&Account::tags, "new"));
  EXPECT_EQ(r.matched, 1);
  Account two = *accounts.FindOne(field(&Account::number) == "2");
  EXPECT_EQ(two.balance, "5.25"_dec);
  EXPECT_EQ(two.cents, 525);
  EXPECT_EQ(two.note, "paid");
  EXPECT_EQ(two.tags, std::vector<std::string>{"new"});
  accounts.UpdateOne(field(&Account::number) == "2", unset(&Account::note) + add_to_set(&Account::tags, "new") +
                                                         max(&Account::cents, 10) + min(&Account::balance, 1));
  two = *accounts.FindOne(field(&Account::number) == "2");
  EXPECT_FALSE(two.note.has_value());
  EXPECT_EQ(two.tags.size(), 1u);
  EXPECT_EQ(two.cents, 525);
  EXPECT_EQ(two.balance, Decimal128(1));

  EXPECT_EQ(accounts.UpdateMany(field(&Account::tags) == "vip", inc(&Account::cents, 1)).modified, 2);
  auto after = accounts.FindOneAndUpdate(field(&Account::number) == "1", inc(&Account::cents, 100));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->cents, 1101);
  auto upserted = accounts.UpdateOne(field(&Account::number) == "9", set(&Account::owner, "new") +
                                                                         set(&Account::balance, 0) + set(&Account::cents, 0),
                                     /*upsert=*/true);
  EXPECT_TRUE(upserted.upserted);
  EXPECT_EQ(accounts.FindOne(field(&Account::number) == "9")->owner, "new");

  Account replacement{"3", "GRACE H", "1"_dec, 100, std::nullopt, {}};
  accounts.ReplaceOne(field(&Account::number) == "3", replacement);
  EXPECT_EQ(accounts.FindOne(field(&Account::number) == "3")->owner, "grace h");
  auto removed = accounts.FindOneAndDelete(field(&Account::number) == "9");
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(accounts.DeleteMany(field(&Account::cents) < 200), 1);
  EXPECT_EQ(accounts.Count(), 2);

  auto owners = accounts.Distinct(&Account::owner);
  EXPECT_EQ(owners.size(), 2u);
  // Typed and raw aggregation.
  auto total = accounts.Aggregate<docket::Document>(
      {*docket::Document::FromJson(R"({"$group": {"_id": null, "cents": {"$sum": "$cents"}}})")});
  auto rows = total.ToVector();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0].ToJson().find("1626"), std::string::npos) << rows[0].ToJson();
  auto sorted = accounts.Aggregate({*docket::Document::FromJson(R"({"$sort": {"cents": -1}})")}).ToVector();
  ASSERT_EQ(sorted.size(), 2u);
  EXPECT_EQ(sorted[0].number, "1");
}

TEST_P(OdmTest, HooksUniqueIndexesAndErrorsCarryMongoDbCodes) {
  auto accounts = db().Collection<Account>("accounts");
  Account nameless{"", "x", "0"_dec, 0, std::nullopt, {}};
  try {
    accounts.InsertOne(nameless);
    FAIL() << "validate() should have refused it";
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), 121);
    EXPECT_NE(std::string(e.what()).find("an account needs a number"), std::string::npos);
  }
  EXPECT_EQ(accounts.Count(), 0);
  Account a{"1", "x", "0"_dec, 0, std::nullopt, {}};
  accounts.InsertOne(a);
  try {
    accounts.InsertOne(a);
    FAIL() << "a second _id 1";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kDuplicateKey);
  }
  EXPECT_EQ(accounts.CreateIndex(true, &Account::owner), "owner_1");
  Account b{"2", "X", "0"_dec, 0, std::nullopt, {}};  // cleaned to "x": taken
  EXPECT_THROW(accounts.InsertOne(b), Error);
  // A document that no longer fits the model is reported by the read.
  auto raw = db().Collection<Everything>("accounts");
  EXPECT_THROW(raw.FindOne(), Error);
}

// Collation: the same typed find, case-insensitive and in English order, on
// both backends; and a case-insensitive unique index.
TEST_P(OdmTest, FindsTakeACollation) {
  auto notes = db().Collection<Account>("notes");
  std::vector<Account> batch = {{"1", "x", "0"_dec, 0, "banana", {}},
                                {"2", "x", "0"_dec, 0, "Apple", {}},
                                {"3", "x", "0"_dec, 0, "cherry", {}}};
  notes.InsertMany(batch);
  FindOptions<Account> ci;
  ci.collation = *docket::Document::FromJson(R"({"locale": "en", "strength": 2})");
  std::vector<std::string> found;
  for (const Account& a : notes.Find(field(&Account::note) == "APPLE", ci)) found.push_back(a.number);
  EXPECT_EQ(found, std::vector<std::string>{"2"});
  EXPECT_FALSE(notes.FindOne(field(&Account::note) == "APPLE").has_value());
  FindOptions<Account> english = ci;
  english.sort.Ascending(&Account::note);
  FindOptions<Account> binary;
  binary.sort.Ascending(&Account::note);
  std::vector<std::string> in_english, in_bytes;
  for (const Account& a : notes.Find({}, english)) in_english.push_back(*a.note);
  for (const Account& a : notes.Find({}, binary)) in_bytes.push_back(*a.note);
  EXPECT_EQ(in_english, (std::vector<std::string>{"Apple", "banana", "cherry"}));
  EXPECT_EQ(in_bytes, (std::vector<std::string>{"Apple", "banana", "cherry"}));
  Account fourth{"4", "x", "0"_dec, 0, "Banana2", {}};
  notes.InsertOne(fourth);
  in_english.clear();
  in_bytes.clear();
  for (const Account& a : notes.Find({}, english)) in_english.push_back(*a.note);
  for (const Account& a : notes.Find({}, binary)) in_bytes.push_back(*a.note);
  EXPECT_EQ(in_english, (std::vector<std::string>{"Apple", "banana", "Banana2", "cherry"}));
  EXPECT_EQ(in_bytes, (std::vector<std::string>{"Apple", "Banana2", "banana", "cherry"}));
  notes.CreateIndex(*docket::Document::FromJson(
      R"({"key": {"note": 1}, "name": "note_ci", "unique": true, "collation": {"locale": "en", "strength": 2}})"));
  try {
    Account variant{"5", "x", "0"_dec, 0, "CHERRY", {}};
    notes.InsertOne(variant);
    FAIL() << "a case variant under a case-insensitive unique index";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kDuplicateKey);
  }
}

// Seed 2 done right: one handle per branch, used from many threads at once.
TEST_P(OdmTest, BranchBalancesAddUpAcrossEightCollections) {
  constexpr int kBranches = 8;
  std::vector<Collection<Account>> branches;
  for (int b = 0; b < kBranches; ++b) {
    branches.push_back(db().Collection<Account>("branch" + std::to_string(b)));
    Account acct{"acct", "owner", "0"_dec, 0, std::nullopt, {}};
    branches.back().InsertOne(acct);
  }
  std::vector<std::atomic<int64_t>> sent(kBranches);
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kPerThread; ++i) {
        int b = static_cast<int>(rng() % kBranches);
        int cents = static_cast<int>(rng() % 1000) + 1;
        try {
          // A fresh handle per request is the normal way; they are values.
          Collection<Account> branch = db().Collection<Account>("branch" + std::to_string(b));
          branch.UpdateOne(field(&Account::number) == "acct",
                           inc(&Account::cents, cents) + inc(&Account::balance, Decimal128(cents)));
          sent[b] += cents;
        } catch (const Error&) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  for (int b = 0; b < kBranches; ++b) {
    Account acct = *branches[b].FindOne();
    EXPECT_EQ(acct.cents, sent[b].load()) << "branch " << b;
    EXPECT_EQ(acct.balance, Decimal128(sent[b].load())) << "branch " << b;
  }
}

// All values distinct under 32 threads, for the strategies that need no
// transaction; the atomic one also has no gaps.
TEST_P(OdmTest, AtomicAndBlockSequencesNeverRepeatUnder32Threads) {
  for (SequenceStrategy strategy : {SequenceStrategy::kAtomic, SequenceStrategy::kBlock}) {
    SequenceOptions options;
    options.strategy = strategy;
    options.block_size = 7;  // small blocks: many refills race
    Sequence seq = db().Sequence(strategy == SequenceStrategy::kAtomic ? "atomic" : "block", options);
    std::mutex mu;
    std::vector<int64_t> all;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        std::vector<int64_t> mine;
        // Copies share the reservation; separate handles would too be safe.
        Sequence copy = seq;
        for (int i = 0; i < kPerThread; ++i) mine.push_back(copy.Next());
        std::lock_guard lock(mu);
        all.insert(all.end(), mine.begin(), mine.end());
      });
    }
    for (auto& th : threads) th.join();
    std::set<int64_t> distinct(all.begin(), all.end());
    ASSERT_EQ(distinct.size(), all.size()) << "a value was handed out twice";
    EXPECT_GE(*distinct.begin(), 1);
    if (strategy == SequenceStrategy::kAtomic) {
      EXPECT_EQ(*distinct.rbegin(), static_cast<int64_t>(all.size()));
      EXPECT_EQ(seq.Current(), static_cast<int64_t>(all.size()));
    }
  }
}

// Seed 1 done right: "Prefix<N>" ids from 32 threads through a sequenced
// primary key. Gapless: exactly 1..N although 10% of the inserts fail,
// half refused by validate() and half by a duplicate title.
TEST_P(OdmTest, SequencedIdsAreDistinctAndGaplessSkipsNoNumber) {
  auto tickets = db().Collection<Ticket>("tickets");
  tickets.CreateIndex(true, &Ticket::title);
  Ticket taken{{}, "taken", false};
  tickets.WithSequence(&Ticket::id, db().Sequence("seed"), SequenceFormat{"Seed", 0}).InsertOne(taken);

  SequenceOptions gapless_options;
  gapless_options.strategy = SequenceStrategy::kGapless;
  Sequence gapless = db().Sequence("tickets", gapless_options);
  auto numbered = tickets.WithSequence(&Ticket::id, gapless, SequenceFormat{"Prefix", 0});
  if (standalone()) {
    // A standalone server has no transactions, so a gapless number is
    // refused rather than silently leaving gaps.
    Ticket t{{}, "x", false};
    try {
      numbered.InsertOne(t);
      FAIL() << "a gapless insert without transactions";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kIllegalOperation) << e.what();
    }
    EXPECT_TRUE(t.id.empty());
    EXPECT_THROW(gapless.Next(), Error);
    return;
  }
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Ticket ticket;
        ticket.title = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (i % 20 == 3) ticket.fail = true;        // 5%: validate() refuses
        if (i % 20 == 13) ticket.title = "taken";   // 5%: the unique index refuses, inside the transaction
        try {
          numbered.InsertOne(ticket);
          EXPECT_FALSE(ticket.id.empty());
          ++ok;
        } catch (const Error& e) {
          EXPECT_TRUE(static_cast<int>(e.code()) == 121 || e.code() == ErrorCode::kDuplicateKey) << e.what();
          EXPECT_TRUE(ticket.id.empty()) << "a failed insert kept its number";
          ++refused;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok + refused, kThreads * kPerThread);
  EXPECT_EQ(refused.load(), kThreads * kPerThread / 10);
  std::set<std::string> ids;
  for (const Ticket& t : tickets.Find()) ids.insert(*t.id);
  EXPECT_EQ(static_cast<int>(ids.size()), ok.load() + 1);
  for (int n = 1; n <= ok.load(); ++n) {
    ASSERT_TRUE(ids.count("Prefix" + std::to_string(n))) << "Prefix" << n << " is missing: a gap";
  }
  EXPECT_EQ(gapless.Current(), ok.load());
  EXPECT_EQ(SequenceFormat({"ORD", 6}).Format(42), "ORD000042");
}

TEST_P(OdmTest, TransactionHelperConservesTheTotal) {
  auto accounts = db().Collection<Account>("accounts");
  for (int a = 0; a < 6; ++a) {
    Account acct{std::to_string(a), "o", "100"_dec, 10000, std::nullopt, {}};
    accounts.InsertOne(acct);
  }
  EXPECT_EQ(db().SupportsTransactions(), !standalone());
  if (standalone()) {
    EXPECT_THROW(db().WithTransaction([](Session&) {}), Error);
    return;
  }
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kPerThread / 2; ++i) {
        std::string from = std::to_string(rng() % 6), to = std::to_string(rng() % 6);
        int64_t amount = static_cast<int64_t>(rng() % 500);
        try {
          db().WithTransaction([&](Session& s) {
            auto in_txn = accounts.In(s);
            in_txn.UpdateOne(field(&Account::number) == from, inc(&Account::cents, -amount));
            in_txn.UpdateOne(field(&Account::number) == to, inc(&Account::cents, amount));
          });
        } catch (const Error&) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  int64_t total = 0;
  for (const Account& a : accounts.Find()) total += a.cents;
  EXPECT_EQ(total, 60000);
}

INSTANTIATE_TEST_SUITE_P(Backends, OdmTest, ::testing::Values(Where::kEmbedded, Where::kStandalone, Where::kReplicaSet),
                         [](const ::testing::TestParamInfo<Where>& info) {
                           switch (info.param) {
                             case Where::kEmbedded: return std::string("Embedded");
                             case Where::kStandalone: return std::string("Standalone");
                             case Where::kReplicaSet: return std::string("ReplicaSet");
                           }
                           return std::string();
                         });

// The user-facing fixture: a fresh in-memory database per test.
class FixtureTest : public docket::odm::testing::DatabaseTest {};

TEST_F(FixtureTest, EachTestStartsEmpty) {
  auto c = db().Collection<Account>("accounts");
  EXPECT_EQ(c.Count(), 0);
  Account a{"1", "x", "0"_dec, 0, std::nullopt, {}};
  c.InsertOne(a);
  EXPECT_EQ(c.Count(), 1);
}

}  // namespace
