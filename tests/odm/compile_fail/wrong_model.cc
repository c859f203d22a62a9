// Must not compile: a filter on one model given to another model's collection.
#include "../models.h"
using namespace docket::odm;
int main() {
  auto client = Client::Open("docket:memory");
  auto tickets = client.Database("d").Collection<models::Ticket>("t");
  return static_cast<int>(tickets.Count(field(&models::Account::owner) == "x"));
}
