// Reading a command document's fields, with MongoDB's type errors
// (TypeMismatch 14 / FailedToParse 9) for fields of the wrong type.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <string>
#include <vector>

#include "commands/command.h"

namespace docket::commands {

// The sub-document or array at `it`, as its own Document.
Document SubDocument(const bson_iter_t& it);
// The whole string at `it` (a NUL inside it included: names built from a
// C-string view would be cut short there). REQUIRES: BSON_ITER_HOLDS_UTF8.
std::string IterString(const bson_iter_t& it);

// A document-valued field; {} when absent. Errors: TypeMismatch.
Result<Document> GetDocumentField(const Document& body, const char* key);
// The same, stored into *out: `DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "sort", &options.sort))`.
Status ReadDocumentField(const Document& body, const char* key, Document* out);
// A string-valued field. Errors: TypeMismatch, or FailedToParse when required and absent.
Result<std::string> GetStringField(const Document& body, const char* key, bool required);
// A numeric field as int64 (int32, int64 or an integral double); `fallback` when absent.
Result<int64_t> GetIntField(const Document& body, const char* key, int64_t fallback);
// A field read as MongoDB reads flags: any number != 0, true, or non-null is true.
bool GetBoolField(const Document& body, const char* key, bool fallback);

// The documents of an array argument (`documents`, `updates`, `deletes`):
// from the body's array, or from an OP_MSG document sequence of that name.
// Errors: TypeMismatch for a non-array or non-document elements.
Result<std::vector<Document>> GetDocumentList(const CommandRequest& request, const char* key);

// mongod's refusal of an admin command run elsewhere: Unauthorized (13),
// "<command> may only be run against the admin database."
Status AdminOnly(const CommandRequest& request, const char* command);
// How many documents GetDocumentList would return, without copying them
// (0 when the list is missing or malformed).
int64_t CountDocumentList(const CommandRequest& request, const char* key);

// Appends the documents of an array field (e.g. `arrayFilters`) to *out;
// nothing when absent. Errors: TypeMismatch for a non-array or non-documents.
Status ReadDocumentArray(const Document& body, const char* key, std::vector<Document>* out);

// The index named by a `hint` field: a name or a key pattern ({} or absent:
// none). Errors: TypeMismatch for anything else.
Result<IndexHint> GetHint(const Document& body);

// The command's writeConcern: j:true journals; w:0 is handled by the caller.
Result<WriteConcern> GetWriteConcern(const Document& body);

// Whether the collection exists (listIndexes, validate and dropIndexes
// answer NamespaceNotFound for a missing one; reads do not).
bool CollectionExists(Engine* engine, const std::string& db, const std::string& name);

// The collection named by the command's first field (a string). Errors:
// InvalidNamespace for a non-string or empty name.
Result<std::string> GetCollectionName(const Document& body);

// The collection command `name` works on: its first field for the CRUD
// commands (find, insert, update, delete, count, distinct, aggregate,
// findAndModify), getMore's `collection`; "" for the others.
std::string CommandCollection(const std::string& name, const Document& body);

}  // namespace docket::commands
