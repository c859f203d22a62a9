// UTF-8 helpers for the string expressions, which count in code points
// ($strLenCP, $substrCP, $indexOfCP) and change ASCII case only ($toLower,
// $toUpper), as MongoDB does.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace docket::text {

inline bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Number of code points (bytes that do not continue a sequence).
size_t CodePointCount(std::string_view s);
// Byte offset of code point `index`, or s.size() when the string is shorter.
size_t CodePointOffset(std::string_view s, size_t index);
// Code point index of byte offset `offset`.
size_t CodePointIndex(std::string_view s, size_t offset);

std::string AsciiLower(std::string_view s);
std::string AsciiUpper(std::string_view s);

}  // namespace docket::text
