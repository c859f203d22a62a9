// createBackup (admin only), the command Percona Server for MongoDB gives
// for hot backups: {createBackup: 1, backupDir: "<absolute path>"} writes a
// consistent copy of the whole database to a new directory on the server's
// machine (Engine::Checkpoint) while reads and writes go on; `docket serve
// --dbpath <backupDir>` opens it. Not under the fsync lock: it writes
// nothing to the database.
#include <filesystem>

#include "commands/args.h"
#include "commands/handlers.h"

namespace docket::commands {

Status CreateBackup(CommandContext& context, const CommandRequest& request, bson_t* /*reply: ok only*/) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "createBackup"));
  bson_iter_t it;
  if (request.body->Find("s3", &it)) {
    return Status(ErrorCode::kBadValue, "createBackup: backups to S3 are not supported; give backupDir");
  }
  if (!request.body->Find("backupDir", &it)) {
    return Status(ErrorCode::kBadValue, "createBackup needs backupDir: a directory path on the server");
  }
  if (!BSON_ITER_HOLDS_UTF8(&it)) return Status(ErrorCode::kTypeMismatch, "createBackup: backupDir must be a string");
  const std::string dir = bson_iter_utf8(&it, nullptr);
  if (dir.empty() || !std::filesystem::path(dir).is_absolute()) {
    return Status(ErrorCode::kBadValue, "createBackup: backupDir must be an absolute path, not \"" + dir + "\"");
  }
  std::error_code error;
  const std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  if (!std::filesystem::is_directory(parent, error)) {
    return Status(ErrorCode::kBadValue, "createBackup: the parent directory of backupDir, " + parent.string() +
                                            ", does not exist");
  }
  DOCKET_RETURN_IF_ERROR(context.server.engine->Checkpoint(dir));
  return Status::OK();
}

}  // namespace docket::commands
