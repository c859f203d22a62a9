// Must not compile: a string field compared with a number.
#include "../models.h"
using namespace docket::odm;
int main() { return (field(&models::Account::owner) > 5).document().empty(); }
