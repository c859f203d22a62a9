// Must not compile: $inc on a string field.
#include "../models.h"
using namespace docket::odm;
int main() { return inc(&models::Account::owner, 1).document().empty(); }
