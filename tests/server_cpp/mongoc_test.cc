// The official C driver (libmongoc, Debian's) against an in-process server
// on a free loopback port: handshake, inserts, findAndModify, a cursor that
// needs getMore, and many concurrent connections (clients from a pool).
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "docket/engine.h"
#include "server/server.h"

namespace docket {
namespace {

class MongocTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mongoc_init(); }
  static void TearDownTestSuite() { mongoc_cleanup(); }

  void SetUp() override {
    engine_ = *Engine::Open({.in_memory = true});
    server::ServerOptions options;
    options.port = 0;
    options.quiet = true;
    auto server = server::Server::Start(engine_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    uri_ = "mongodb://127.0.0.1:" + std::to_string(server_->port()) + "/?appname=docket-test";
  }

  void TearDown() override {
    server_->Stop();
    server_.reset();
    engine_.reset();
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<server::Server> server_;
  std::string uri_;
};

bson_t* Json(const char* json) {
  bson_error_t error;
  bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(json), -1, &error);
  EXPECT_NE(b, nullptr) << error.message;
  return b;
}

TEST_F(MongocTest, InsertFindAndModifyAndCursor) {
  mongoc_client_t* client = mongoc_client_new(uri_.c_str());
  ASSERT_NE(client, nullptr);
  bson_error_t error;
  bson_t* ping = Json(R"({"ping": 1})");
  ASSERT_TRUE(mongoc_client_command_simple(client, "admin", ping, nullptr, nullptr, &error)) << error.message;
  bson_destroy(ping);

  mongoc_collection_t* items = mongoc_client_get_collection(client, "ctest", "items");
  for (int i = 0; i < 250; ++i) {
    bson_t* doc = BCON_NEW("_id", BCON_INT32(i), "even", BCON_BOOL(i % 2 == 0));
    ASSERT_TRUE(mongoc_collection_insert_one(items, doc, nullptr, nullptr, &error)) << error.message;
    bson_destroy(doc);
  }
  bson_t* duplicate = BCON_NEW("_id", BCON_INT32(7));
  EXPECT_FALSE(mongoc_collection_insert_one(items, duplicate, nullptr, nullptr, &error));
  EXPECT_EQ(error.code, 11000u);
  bson_destroy(duplicate);

  // A cursor over more than one batch: getMore through the driver.
  bson_t* filter = Json(R"({"even": true})");
  bson_t* opts = Json(R"({"batchSize": 20, "sort": {"_id": 1}})");
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(items, filter, opts, nullptr);
  const bson_t* doc;
  int seen = 0, expected_id = 0;
  while (mongoc_cursor_next(cursor, &doc)) {
    bson_iter_t it;
    ASSERT_TRUE(bson_iter_init_find(&it, doc, "_id"));
    EXPECT_EQ(bson_iter_int32(&it), expected_id);
    expected_id += 2;
    ++seen;
  }
  EXPECT_FALSE(mongoc_cursor_error(cursor, &error)) << error.message;
  EXPECT_EQ(seen, 125);
  mongoc_cursor_destroy(cursor);
  bson_destroy(filter);
  bson_destroy(opts);

  // findAndModify $inc with upsert, returning the new document.
  mongoc_collection_t* counters = mongoc_client_get_collection(client, "ctest", "counters");
  mongoc_find_and_modify_opts_t* fam = mongoc_find_and_modify_opts_new();
  bson_t* update = Json(R"({"$inc": {"n": 1}})");
  mongoc_find_and_modify_opts_set_update(fam, update);
  mongoc_find_and_modify_opts_set_flags(
      fam, static_cast<mongoc_find_and_modify_flags_t>(MONGOC_FIND_AND_MODIFY_UPSERT | MONGOC_FIND_AND_MODIFY_RETURN_NEW));
  bson_t* query = Json(R"({"_id": "seq"})");
  for (int expected = 1; expected <= 3; ++expected) {
    bson_t reply;
    ASSERT_TRUE(mongoc_collection_find_and_modify_with_opts(counters, query, fam, &reply, &error)) << error.message;
    bson_iter_t it;
    ASSERT_TRUE(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "value.n", &it));
    EXPECT_EQ(bson_iter_as_int64(&it), expected);
    bson_destroy(&reply);
  }
  bson_destroy(query);
  bson_destroy(update);
  mongoc_find_and_modify_opts_destroy(fam);
  mongoc_collection_destroy(counters);
  mongoc_collection_destroy(items);
  mongoc_client_destroy(client);
}

// Many threads, each with its own pooled client, drawing numbers from one
// counter: all numbers distinct, the counter at the total.
TEST_F(MongocTest, PooledClientsDrawDistinctNumbers) {
  mongoc_uri_t* uri = mongoc_uri_new((uri_ + "&maxPoolSize=64").c_str());
  mongoc_client_pool_t* pool = mongoc_client_pool_new(uri);
  constexpr int kThreads = 16, kEach = 50;
  std::vector<std::vector<int64_t>> drawn(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      mongoc_client_t* client = mongoc_client_pool_pop(pool);
      mongoc_collection_t* counters = mongoc_client_get_collection(client, "ctest", "counters");
      mongoc_find_and_modify_opts_t* fam = mongoc_find_and_modify_opts_new();
      bson_t* update = BCON_NEW("$inc", "{", "n", BCON_INT32(1), "}");
      bson_t* query = BCON_NEW("_id", BCON_UTF8("pooled"));
      mongoc_find_and_modify_opts_set_update(fam, update);
      mongoc_find_and_modify_opts_set_flags(fam, static_cast<mongoc_find_and_modify_flags_t>(
                                                     MONGOC_FIND_AND_MODIFY_UPSERT | MONGOC_FIND_AND_MODIFY_RETURN_NEW));
      for (int i = 0; i < kEach; ++i) {
        bson_t reply;
        bson_error_t error;
        bson_iter_t it;
        if (mongoc_collection_find_and_modify_with_opts(counters, query, fam, &reply, &error) &&
            bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "value.n", &it)) {
          drawn[t].push_back(bson_iter_as_int64(&it));
        } else {
          errors.fetch_add(1);
        }
        bson_destroy(&reply);
      }
      bson_destroy(query);
      bson_destroy(update);
      mongoc_find_and_modify_opts_destroy(fam);
      mongoc_collection_destroy(counters);
      mongoc_client_pool_push(pool, client);
    });
  }
  for (auto& t : threads) t.join();
  mongoc_client_pool_destroy(pool);
  mongoc_uri_destroy(uri);
  EXPECT_EQ(errors.load(), 0);
  std::set<int64_t> all;
  for (const auto& v : drawn) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.rbegin(), kThreads * kEach);
}

}  // namespace
}  // namespace docket
