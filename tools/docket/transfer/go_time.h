// Dates in mongoimport's typed CSV/TSV columns: date(), date_go(),
// date_ms() and date_oracle() all parse with Go's time.Parse, the last two
// after turning a SQL Server FORMAT or Oracle TO_DATE layout into Go's
// reference-time layout ("2006-01-02 15:04:05"). This is a port of that
// parser's behaviour, so the same layouts accept the same text.
#pragma once

#include <cstdint>
#include <string>

namespace docket::transfer {

// Parses `value` against the Go `layout`. Without a zone in the layout (or
// the text) the time is UTC; a numeric offset (-0700, Z07:00, ...) is
// applied; a zone abbreviation other than UTC or GMT+N counts as UTC, as Go
// does for abbreviations it does not know. Returns false and a message
// saying which part did not match, otherwise milliseconds since the epoch
// (fractions of a millisecond truncated, as the Go driver stores a time).
bool ParseGoTime(const std::string& layout, const std::string& value, int64_t* millis, std::string* error);

// Days from 1970-01-01 to the proleptic Gregorian date (month 1-12).
int64_t DaysFromCivil(int64_t year, int month, int day);

}  // namespace docket::transfer
