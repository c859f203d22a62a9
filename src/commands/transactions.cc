#include "commands/transactions.h"

#include <cstring>
#include <mutex>
#include <string_view>

#include "bson/builder.h"
#include "commands/args.h"
#include "commands/error_labels.h"
#include "commands/write_concern.h"
#include "bson/append_element.h"

namespace docket::commands {
namespace {

// What a command's session fields ask for.
struct SessionFields {
  std::string lsid;  // the id's bytes; empty: no session
  bool has_txn_number = false;
  int64_t txn_number = 0;
  bool has_autocommit = false;
  bool autocommit = true;
  bool start_transaction = false;
};

Result<SessionFields> ReadSessionFields(const Document& body) {
  SessionFields f;
  bson_iter_t it;
  if (body.Find("lsid", &it)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
      return Status(ErrorCode::kTypeMismatch, "BSON field 'lsid' is the wrong type, expected an object");
    }
    Document lsid = SubDocument(it);
    bson_iter_t id;
    if (!lsid.Find("id", &id) || !BSON_ITER_HOLDS_BINARY(&id)) {
      return Status(ErrorCode::kFailedToParse, "BSON field 'lsid.id' is missing or is not binary data");
    }
    bson_subtype_t subtype;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_binary(&id, &subtype, &len, &data);
    f.lsid.assign(reinterpret_cast<const char*>(data), len);
    if (f.lsid.empty()) return Status(ErrorCode::kBadValue, "lsid.id must not be empty");
  }
  if (body.Find("txnNumber", &it)) {
    if (!BSON_ITER_HOLDS_INT64(&it) && !BSON_ITER_HOLDS_INT32(&it)) {
      return Status(ErrorCode::kTypeMismatch, "BSON field 'txnNumber' is the wrong type, expected a long");
    }
    f.has_txn_number = true;
    f.txn_number = bson_iter_as_int64(&it);
    if (f.txn_number < 0) return Status(ErrorCode::kBadValue, "txnNumber must not be negative");
  }
  if (body.Find("autocommit", &it)) {
    if (!BSON_ITER_HOLDS_BOOL(&it)) {
      return Status(ErrorCode::kTypeMismatch, "BSON field 'autocommit' is the wrong type, expected a boolean");
    }
    f.has_autocommit = true;
    f.autocommit = bson_iter_bool(&it);
  }
  if (body.Find("startTransaction", &it)) {
    if (!BSON_ITER_HOLDS_BOOL(&it)) {
      return Status(ErrorCode::kTypeMismatch, "BSON field 'startTransaction' is the wrong type, expected a boolean");
    }
    f.start_transaction = bson_iter_bool(&it);
  }
  return f;
}

bool OneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

bool IsRetryableWrite(std::string_view name) {
  return OneOf(name, {"insert", "update", "delete", "findAndModify", "findandmodify"});
}

// What may run inside a transaction (as MongoDB 6.0, less what Docket does
// not run there yet: count, createIndexes).
bool AllowedInTransaction(std::string_view name) {
  return OneOf(name, {"find", "getMore", "killCursors", "insert", "update", "delete", "findAndModify", "findandmodify",
                      "aggregate", "distinct", "create", "createIndexes"});
}

// Errors after which the driver should run the whole transaction again.
bool IsTransient(ErrorCode code) {
  return code == ErrorCode::kWriteConflict || code == ErrorCode::kLockTimeout ||
         code == ErrorCode::kNoSuchTransaction;
}

// The error an armed failCommand makes the command fail with, before it runs.
std::optional<Status> InjectedError(const CommandContext& context) {
  if (context.fail == nullptr || !context.fail->error) return std::nullopt;
  return Status(*context.fail->error, "Failing command via 'failCommand' failpoint");
}

Document RunPlain(CommandContext& context, const CommandRequest& request, Handler handler) {
  if (auto injected = InjectedError(context)) return ErrorReply(*injected);
  bson::Builder reply;
  Status s = handler(context, request, reply.get());
  if (s.code() == ErrorCode::kWouldBlock) context.connection.parked = s;  // nothing was done: run it again later
  if (!s.ok()) return ErrorReply(s);
  BSON_APPEND_DOUBLE(reply.get(), "ok", 1.0);
  return reply.Finish();
}

// The error reply of a transaction's statement, commit or abort; its
// errorLabels are added by RunWithSession (error_labels.h).
Document TransactionError(const Status& s) { return ErrorReply(s); }

// The error a reply reports: its top-level code, or its first write error's;
// OK for a clean reply.
Status ReplyError(const Document& reply) {
  bson_iter_t it;
  if (reply.Find("ok", &it) && bson_iter_as_double(&it) != 1.0) {
    bson_iter_t code, message;
    int32_t c = reply.Find("code", &code) ? bson_iter_as_int64(&code) : 1;
    std::string m = reply.Find("errmsg", &message) && BSON_ITER_HOLDS_UTF8(&message)
                        ? bson_iter_utf8(&message, nullptr)
                        : "the command failed";
    return Status(static_cast<ErrorCode>(c), m);
  }
  bson_iter_t errors, first, field;
  if (reply.Find("writeErrors", &errors) && BSON_ITER_HOLDS_ARRAY(&errors)) {
    bson_iter_recurse(&errors, &first);
    if (bson_iter_next(&first) && BSON_ITER_HOLDS_DOCUMENT(&first)) {
      Document e = SubDocument(first);
      int32_t c = e.Find("code", &field) ? static_cast<int32_t>(bson_iter_as_int64(&field)) : 1;
      std::string m = e.Find("errmsg", &field) && BSON_ITER_HOLDS_UTF8(&field) ? bson_iter_utf8(&field, nullptr) : "";
      return Status(static_cast<ErrorCode>(c), m);
    }
  }
  return Status::OK();
}

void KillTransactionCursors(CommandContext& context, Session& session) {
  for (int64_t id : session.txn_cursors) context.server.cursors.KillInternal(id);
  session.txn_cursors.clear();
}

// Ends the session's transaction (if any) without committing; its cursors go.
void EndTransaction(CommandContext& context, Session& session) {
  session.AbortTransaction();
  KillTransactionCursors(context, session);
}

Status NoSuchTransaction(int64_t asked, const Session& session) {
  return Status(ErrorCode::kNoSuchTransaction, "Given transaction number " + std::to_string(asked) +
                                                   " does not match any in-progress transactions. The active "
                                                   "transaction number is " +
                                                   std::to_string(session.txn_number));
}

Document Commit(CommandContext& context, const CommandRequest& request, const SessionFields& f, Session& session) {
  if (f.txn_number < session.txn_number) {
    return ErrorReply(Status(ErrorCode::kTransactionTooOld,
                             "Cannot commit transaction " + std::to_string(f.txn_number) + ": transaction " +
                                 std::to_string(session.txn_number) + " has started since"));
  }
  if (f.txn_number > session.txn_number) return TransactionError(NoSuchTransaction(f.txn_number, session));
  switch (session.state) {
    case Session::TxnState::kCommitted: {  // a retried commit: the same answer
      bson::Builder ok;
      BSON_APPEND_DOUBLE(ok.get(), "ok", 1.0);
      return ok.Finish();
    }
    case Session::TxnState::kNone:
    case Session::TxnState::kAborted:
      return TransactionError(NoSuchTransaction(f.txn_number, session));
    case Session::TxnState::kInProgress:
      break;
  }
  if (auto injected = InjectedError(context)) return ErrorReply(*injected);
  auto concern = GetWriteConcern(*request.body);
  if (!concern.ok()) return ErrorReply(concern.status());
  Status s = session.txn->Commit(*concern);
  KillTransactionCursors(context, session);
  session.txn.reset();
  if (!s.ok()) {
    session.state = Session::TxnState::kAborted;
    return TransactionError(s);
  }
  session.state = Session::TxnState::kCommitted;
  bson::Builder ok;
  BSON_APPEND_DOUBLE(ok.get(), "ok", 1.0);
  return ok.Finish();
}

Document Abort(CommandContext& context, const SessionFields& f, Session& session) {
  if (f.txn_number < session.txn_number) {
    return ErrorReply(Status(ErrorCode::kTransactionTooOld, "Cannot abort transaction " +
                                                                std::to_string(f.txn_number) + ": transaction " +
                                                                std::to_string(session.txn_number) + " has started since"));
  }
  if (f.txn_number > session.txn_number || session.state == Session::TxnState::kNone ||
      session.state == Session::TxnState::kAborted) {
    return ErrorReply(NoSuchTransaction(f.txn_number, session));
  }
  if (session.state == Session::TxnState::kCommitted) {
    return ErrorReply(Status(ErrorCode::kTransactionCommitted,
                             "Transaction " + std::to_string(f.txn_number) + " has been committed."));
  }
  if (auto injected = InjectedError(context)) return ErrorReply(*injected);
  EndTransaction(context, session);
  bson::Builder ok;
  BSON_APPEND_DOUBLE(ok.get(), "ok", 1.0);
  return ok.Finish();
}

// The lsid as MongoDB's oplog entries name it: {id, uid}, where uid is the
// SHA-256 of the user's name, the empty string without authentication.
Document OplogSessionId(const Document& body) {
  static const uint8_t kNoUserSha256[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                            0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                            0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
  auto lsid = GetDocumentField(body, "lsid");
  bson_iter_t id;
  if (!lsid.ok() || !lsid->Find("id", &id)) return Document();
  bson::Builder out;
  bson::AppendElement(out.get(), "id", 2, &id);
  BSON_APPEND_BINARY(out.get(), "uid", BSON_SUBTYPE_BINARY, kNoUserSha256, sizeof kNoUserSha256);
  return out.Finish();
}

// One statement (find, insert, ...) of a transaction; the first one starts it.
Document Statement(CommandContext& context, const CommandRequest& request, const std::string& name,
                   Handler handler, const SessionFields& f, Session& session) {
  if (f.start_transaction) {
    if (f.txn_number < session.txn_number) {
      return ErrorReply(Status(ErrorCode::kTransactionTooOld,
                               "txnNumber " + std::to_string(f.txn_number) + " is less than the last txnNumber " +
                                   std::to_string(session.txn_number) + " seen in this session"));
    }
    if (f.txn_number == session.txn_number) {
      return ErrorReply(Status(ErrorCode::kConflictingOperationInProgress,
                               "transaction " + std::to_string(f.txn_number) + " has already been started"));
    }
    EndTransaction(context, session);  // a newer number replaces an unfinished transaction
    auto txn = context.server.engine->BeginTransaction();
    if (!txn.ok()) return ErrorReply(txn.status());
    session.txn = std::move(txn).value();
    session.txn->SetSession(OplogSessionId(*request.body), f.txn_number);
    session.txn_number = f.txn_number;
    session.state = Session::TxnState::kInProgress;
    session.txn_started = Session::Clock::now();
    session.retry_reply_valid = false;
    auto api = ReadApiParameters(*request.body);  // checked already (dispatch.cc)
    session.txn_api = api.ok() ? *api : ApiParameters();
  } else if (f.txn_number != session.txn_number || session.state != Session::TxnState::kInProgress) {
    return TransactionError(NoSuchTransaction(f.txn_number, session));
  }
  // As MongoDB: anything that fails inside the transaction aborts it.
  auto fail = [&](const Status& s) {
    EndTransaction(context, session);
    return TransactionError(s);
  };
  if (!AllowedInTransaction(name)) {
    return fail(Status(ErrorCode::kOperationNotSupportedInTransaction,
                       "Cannot run '" + name + "' in a multi-document transaction."));
  }
  bson_iter_t wc;
  if (request.body->Find("writeConcern", &wc)) {
    return fail(Status(ErrorCode::kInvalidOptions, "Cannot set write concern after starting a transaction."));
  }
  CommandRequest in_txn = request;
  in_txn.txn = session.txn.get();
  in_txn.txn_cursors = &session.txn_cursors;
  Document reply = RunPlain(context, in_txn, handler);
  Status failed = ReplyError(reply);
  if (failed.ok()) return reply;
  if (IsTransient(failed.code())) return fail(failed);  // as a top-level error, labelled
  EndTransaction(context, session);
  return reply;  // other errors keep their shape (writeErrors stay writeErrors)
}

Document RetryableWrite(CommandContext& context, const CommandRequest& request, Handler handler,
                        const SessionFields& f, Session& session) {
  if (f.txn_number < session.txn_number) {
    return ErrorReply(Status(ErrorCode::kTransactionTooOld,
                             "Retryable write with txnNumber " + std::to_string(f.txn_number) +
                                 " is prohibited on this session because a newer one, " +
                                 std::to_string(session.txn_number) + ", has already started"));
  }
  if (f.txn_number == session.txn_number) {
    if (session.retry_reply_valid) return session.retry_reply;  // the retry of a write that ran
    if (session.state != Session::TxnState::kNone) {
      return ErrorReply(Status(ErrorCode::kConflictingOperationInProgress,
                               "txnNumber " + std::to_string(f.txn_number) + " belongs to a transaction"));
    }
  }
  EndTransaction(context, session);
  session.txn_number = f.txn_number;
  session.state = Session::TxnState::kNone;
  session.retry_reply_valid = false;
  std::optional<TransactionalWriteAction> fail_point;
  if (context.server.test_commands) fail_point = context.server.fail_points.CheckTransactionalWrite();
  if (fail_point && fail_point->fail_before_commit) {
    // The write does not happen; the client hears either nothing (the
    // connection closes, the default) or the error.
    if (fail_point->close_connection) {
      context.connection.close_without_reply = true;
      return Document();
    }
    return ErrorReply(Status(*fail_point->fail_before_commit, "Failing write via 'onPrimaryTransactionalWrite' failpoint"));
  }
  Document reply = RunPlain(context, request, handler);
  bson_iter_t ok;
  if (reply.Find("ok", &ok) && bson_iter_as_double(&ok) == 1.0) {  // it ran: a retry gets this reply
    session.retry_reply = reply;
    session.retry_reply_valid = true;
    // The write is done; the client never hears of it and must retry.
    if (fail_point && fail_point->close_connection) context.connection.close_without_reply = true;
  }
  return reply;
}

}  // namespace

namespace {

// `session`: the lsid's session (null without an lsid).
Document RunWithSessionFields(CommandContext& context, const CommandRequest& request, const std::string& name,
                              Handler handler, const SessionFields& f, const std::shared_ptr<Session>& session) {
  if (!f.has_txn_number) {
    if (f.has_autocommit || f.start_transaction) {
      return ErrorReply(Status(ErrorCode::kInvalidOptions, "a transaction needs a txnNumber"));
    }
    return RunPlain(context, request, handler);
  }
  if (context.server.replica_set.empty()) {
    return ErrorReply(Status(ErrorCode::kIllegalOperation,
                             "Transaction numbers are only allowed on a replica set member or mongos (start "
                             "docket serve with --replica-set NAME)"));
  }
  if (f.lsid.empty()) return ErrorReply(Status(ErrorCode::kInvalidOptions, "a txnNumber needs a session id (lsid)"));
  std::lock_guard lock(session->mutex);  // checked out for this command
  // As mongod: while a transaction is open, every command on its session
  // declares the Stable API parameters its first command declared.
  if (session->state == Session::TxnState::kInProgress) {
    auto api = ReadApiParameters(*request.body);  // checked already (dispatch.cc)
    if (api.ok() && !(*api == session->txn_api)) {
      return ErrorReply(Status(ErrorCode::kAPIMismatchError,
                               "API parameter mismatch: " + CanonicalCommandName(name) + " used params " +
                                   api->ToString() + ", the transaction's first command used " +
                                   session->txn_api.ToString()));
    }
  }
  if (f.has_autocommit) {
    if (f.autocommit) return ErrorReply(Status(ErrorCode::kInvalidOptions, "autocommit must be false"));
    if (name == "commitTransaction") return Commit(context, request, f, *session);
    if (name == "abortTransaction") return Abort(context, f, *session);
    return Statement(context, request, name, handler, f, *session);
  }
  if (!IsRetryableWrite(name)) {
    return ErrorReply(Status(ErrorCode::kInvalidOptions,
                             "txnNumber may only be provided for multi-document transactions and retryable write "
                             "commands; '" + name + "' is neither"));
  }
  return RetryableWrite(context, request, handler, f, *session);
}

// `reply` with a writeConcernError, unless it failed or already has one.
Document WithWriteConcernError(const Document& reply, const Document& error) {
  if (TopLevelErrorCode(reply) || WriteConcernErrorCode(reply)) return reply;
  bson::Builder out;
  bson_iter_t it;
  reply.Iterate(&it);
  while (bson_iter_next(&it)) docket::bson::AppendElement(out.get(), bson_iter_key(&it), -1, &it);
  bson::AppendDocument(out.get(), "writeConcernError", error);
  return out.Finish();
}

}  // namespace

Document RunWithSession(CommandContext& context, const CommandRequest& request, const std::string& name,
                        Handler handler) {
  auto fields = ReadSessionFields(*request.body);
  if (!fields.ok()) return ErrorReply(fields.status());
  auto concern = ParseWriteConcern(*request.body);
  if (!concern.ok()) return ErrorReply(concern.status());
  const bool replica_set = !context.server.replica_set.empty();
  Status concern_ok = CheckWriteConcern(name, *request.body, *concern, replica_set);
  if (!concern_ok.ok()) return ErrorReply(concern_ok);
  CommandRequest in_session = request;
  in_session.lsid = fields->lsid;
  std::shared_ptr<Session> session;
  if (!fields->lsid.empty()) session = context.server.sessions.Get(fields->lsid);  // registered, marked used
  Document reply = RunWithSessionFields(context, in_session, name, handler, *fields, session);
  if (context.fail != nullptr && context.fail->write_concern_error) {
    reply = WithWriteConcernError(reply, *context.fail->write_concern_error);
  }
  if (replica_set) {
    if (auto unsatisfied = UnsatisfiedWriteConcernError(*concern)) reply = WithWriteConcernError(reply, *unsatisfied);
  }
  if (context.fail != nullptr && context.fail->error_labels) return WithErrorLabels(reply, *context.fail->error_labels);
  LabelContext labels{name, fields->has_txn_number, fields->has_autocommit, context.change_stream_get_more};
  auto code = TopLevelErrorCode(reply);
  auto wc_code = WriteConcernErrorCode(reply);
  if (!code && !wc_code) return reply;
  return WithErrorLabels(reply, ErrorLabelsFor(labels, code, wc_code));
}

Status CommitTransaction(CommandContext&, const CommandRequest&, bson_t*) {
  return Status(ErrorCode::kInvalidOptions, "commitTransaction must be run within a transaction (lsid, txnNumber, "
                                            "autocommit: false)");
}

Status AbortTransaction(CommandContext&, const CommandRequest&, bson_t*) {
  return Status(ErrorCode::kInvalidOptions, "abortTransaction must be run within a transaction (lsid, txnNumber, "
                                            "autocommit: false)");
}

}  // namespace docket::commands
