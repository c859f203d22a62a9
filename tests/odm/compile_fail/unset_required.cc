// Must not compile: $unset on a required (non-optional) field.
#include "../models.h"
using namespace docket::odm;
int main() { return unset(&models::Account::owner).document().empty(); }
