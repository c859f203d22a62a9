// The typed C++ ODM: models as plain structs, typed filters and updates,
// collections as values, sequences that never collide. See
// docs/odm.md and the examples/ directory.
#pragma once

#include "docket/odm/client.h"
#include "docket/odm/codec.h"
#include "docket/odm/collection.h"
#include "docket/odm/filter.h"
#include "docket/odm/model.h"
#include "docket/odm/sequence.h"
#include "docket/odm/types.h"
#include "docket/odm/update.h"
