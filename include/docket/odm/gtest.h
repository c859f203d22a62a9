// A GoogleTest fixture for applications' own tests: every test gets a fresh,
// empty in-memory database on a real engine — no mocks, nothing to start.
//
//   class OrdersTest : public docket::odm::testing::DatabaseTest {};
//   TEST_F(OrdersTest, NumbersNeverCollide) {
//     auto orders = db().Collection<Order>("orders");
//     ...
//   }
//
// Set DOCKET_TEST_URI=mongodb://... to run the same tests against a server.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>

#include "docket/odm.h"

namespace docket::odm::testing {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* uri = std::getenv("DOCKET_TEST_URI");
    client_.emplace(Client::Open(uri != nullptr && *uri != '\0' ? uri : "docket:memory"));
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    db_.emplace(client_->Database(name.substr(0, 60)));
    db_->Drop();
  }
  void TearDown() override {
    if (db_) db_->Drop();
  }
  Database& db() { return *db_; }
  Client& client() { return *client_; }

 private:
  std::optional<Client> client_;
  std::optional<Database> db_;
};

}  // namespace docket::odm::testing
