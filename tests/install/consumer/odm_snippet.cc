// The README's ODM snippet, as a program: sequenced order numbers and a
// typed update, in memory. Exits 0 when the order reads back as written.
#include <docket/odm.h>

#include <cstdio>

struct Order {
  docket::odm::Sequenced<std::string> number;  // "ORD000001", "ORD000002", ...
  std::string customer;
  int64_t total_cents = 0;
};
BOOST_DESCRIBE_STRUCT(Order, (), (number, customer, total_cents))
DOCKET_PRIMARY_KEY(Order, number)

int main() {
  using namespace docket::odm;
  auto db = Client::Open("docket:memory").Database("shop");
  auto orders = db.Collection<Order>("orders")
                    .WithSequence(&Order::number, db.Sequence("orders"), SequenceFormat{"ORD", 6});
  Order o{{}, "ada", 1250};
  orders.InsertOne(o);
  orders.UpdateOne(field(&Order::customer) == "ada", inc(&Order::total_cents, 100));
  auto found = orders.FindOne(field(&Order::customer) == "ada");
  if (!found || found->total_cents != 1350 || found->number.value != "ORD000001") return 1;
  std::puts("odm snippet: ok");
  return 0;
}
