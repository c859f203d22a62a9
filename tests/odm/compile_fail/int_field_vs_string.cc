// Must not compile: an int64 field compared with a string.
#include "../models.h"
using namespace docket::odm;
int main() { return (field(&models::Account::cents) == "42").document().empty(); }
