#include "docket/odm/backend.h"

#include "odm/embedded_backend.h"
#include "odm/remote_backend.h"

namespace docket::odm {

std::shared_ptr<Backend> OpenBackend(const std::string& uri) {
  if (uri.rfind("mongodb://", 0) == 0 || uri.rfind("mongodb+srv://", 0) == 0) {
    return std::make_shared<RemoteBackend>(uri);
  }
  if (uri.rfind("docket:", 0) == 0) {
    std::string where = uri.substr(7);
    EngineOptions options;
    if (where == "memory") {
      options.in_memory = true;
    } else if (!where.empty()) {
      options.path = where;
    } else {
      throw Error(Status(ErrorCode::kBadValue, "docket: needs 'memory' or a directory, as in docket:/var/lib/app"));
    }
    auto engine = Engine::Open(options);
    ThrowIfError(engine.status());
    return std::make_shared<EmbeddedBackend>(std::move(engine).value());
  }
  throw Error(Status(ErrorCode::kBadValue,
                     "unknown URI '" + uri + "': use docket:memory, docket:/path/to/dir or mongodb://..."));
}

}  // namespace docket::odm
