// Must not compile: $push on a field that is not an array.
#include "../models.h"
using namespace docket::odm;
int main() { return push(&models::Account::cents, 1).document().empty(); }
