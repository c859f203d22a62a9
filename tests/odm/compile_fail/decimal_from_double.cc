// Must not compile: a double silently becoming a money amount.
#include "../models.h"
using namespace docket::odm;
int main() { return inc(&models::Account::balance, 0.1).document().empty(); }
