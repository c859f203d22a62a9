// Must not compile: $set of a string field to a number.
#include "../models.h"
using namespace docket::odm;
int main() { return set(&models::Account::owner, 7).document().empty(); }
