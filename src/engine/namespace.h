// MongoDB's rules for database and collection names.
#pragma once

#include <string_view>

#include "docket/status.h"

namespace docket::engine {

// Errors: InvalidNamespace (73) with the reason.
Status ValidateDatabaseName(std::string_view db);
Status ValidateCollectionName(std::string_view db, std::string_view collection);

}  // namespace docket::engine
