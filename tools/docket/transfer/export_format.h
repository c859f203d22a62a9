// How `docket export` writes values, as mongoexport does.
//
// JSON: libbson's Extended JSON with the spaces between tokens taken out, so
// a line reads as mongoexport's ({"_id":{"$oid":"..."},"a":1}); --pretty
// indents it with tabs as Go's json.Indent does.
//
// CSV cells: strings as they are; int32 and int64 in decimal; doubles as Go
// prints them (3.5, 1e+06, NaN, +Inf); booleans true/false; null and missing
// fields empty; ObjectId(hex); dates as 2006-01-02T15:04:05.000Z (after year
// 3000 as {"$date":...}); binary as upper-case hex; regular expressions as
// /pattern/options; code as its text; MinKey/MaxKey as $MinKey/$MaxKey;
// timestamps as { "$timestamp": { "t": T, "i": I } }; documents and arrays
// as mongoexport's legacy JSON ({"a":{"$numberLong":"5"}}).
#pragma once

#include <bson/bson.h>

#include <string>

namespace docket::transfer {

// Removes the white space between tokens of JSON text (strings untouched).
std::string CompactJson(const std::string& json);
// Indents compact JSON text with tabs, one member or element a line.
std::string IndentJson(const std::string& compact);

// The CSV cell of the field at the dotted `path` of `doc`: numeric parts
// index arrays ("tags.0"); "" when the path leads nowhere or to null.
std::string CsvCellAt(const bson_t* doc, const std::string& path);

}  // namespace docket::transfer
