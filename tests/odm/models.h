// Models the ODM tests use.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "docket/odm.h"

namespace models {

struct Address {
  std::string city;
  std::optional<std::string> zip;
  friend bool operator==(const Address&, const Address&) = default;
};
BOOST_DESCRIBE_STRUCT(Address, (), (city, zip))

struct Line {
  std::string sku;
  int32_t qty = 0;
  docket::Decimal128 price;
  friend bool operator==(const Line&, const Line&) = default;
};
BOOST_DESCRIBE_STRUCT(Line, (), (sku, qty, price))

// Every supported member type at once.
struct Everything {
  docket::ObjectId id;
  bool flag = false;
  int32_t small = 0;
  int64_t big = 0;
  double ratio = 0;
  std::string name;
  docket::Decimal128 amount;
  docket::Date when;
  docket::Document raw;
  std::optional<int32_t> maybe;
  docket::odm::NullOr<std::string> nullable;
  std::vector<std::string> tags;
  std::map<std::string, int64_t> counts;
  Address address;
  std::vector<Line> lines;
  docket::odm::Rest rest;
  friend bool operator==(const Everything& a, const Everything& b) {
    return a.id == b.id && a.flag == b.flag && a.small == b.small && a.big == b.big && a.ratio == b.ratio &&
           a.name == b.name && a.amount == b.amount && a.when == b.when && a.raw == b.raw && a.maybe == b.maybe &&
           a.nullable == b.nullable && a.tags == b.tags && a.counts == b.counts && a.address == b.address &&
           a.lines == b.lines && a.rest.fields == b.rest.fields;
  }
};
BOOST_DESCRIBE_STRUCT(Everything, (),
                      (id, flag, small, big, ratio, name, amount, when, raw, maybe, nullable, tags, counts, address,
                       lines, rest))
DOCKET_PRIMARY_KEY(Everything, id)
DOCKET_FIELD_NAME(Everything, name, "full_name")

struct Account {
  std::string number;  // the primary key
  std::string owner;
  docket::Decimal128 balance;
  int64_t cents = 0;
  std::optional<std::string> note;
  std::vector<std::string> tags;
  void clean() {
    for (char& c : owner) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  docket::Status validate() const {
    if (number.empty()) return docket::Status(docket::ErrorCode::kBadValue, "an account needs a number");
    return docket::Status::OK();
  }
};
BOOST_DESCRIBE_STRUCT(Account, (), (number, owner, balance, cents, note, tags))
DOCKET_PRIMARY_KEY(Account, number)

// Ids from a sequence, formatted "Prefix<N>".
struct Ticket {
  docket::odm::Sequenced<std::string> id;
  std::string title;
  bool fail = false;  // validate() refuses it: the insert draws no number
  docket::Status validate() const {
    if (fail) return docket::Status(docket::ErrorCode::kBadValue, "refused on purpose");
    return docket::Status::OK();
  }
};
BOOST_DESCRIBE_STRUCT(Ticket, (), (id, title, fail))
DOCKET_PRIMARY_KEY(Ticket, id)

}  // namespace models
