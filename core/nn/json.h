// SPDX-License-Identifier: GPL-3.0-or-later
// A small, strict JSON reader (objects in file order, arrays, strings with every escape, numbers kept as their
// literal, true/false/null; nesting at most 32 deep) for the safetensors header, and jsonEscape() for writing one.
// Plain C++: the nn layer has no Qt.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Winnow::nn {

struct JsonMember;

struct JsonValue
{
    enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
    bool boolean = false;
    std::string text; // String: the value; Number: the literal
    std::vector<JsonValue> items;
    std::vector<JsonMember> members; // Object, in file order
};

struct JsonMember
{
    std::string key;
    JsonValue value;
};

/// What is wrong with a document, and where (a byte offset into it).
class JsonError : public std::runtime_error
{
public:
    JsonError(std::string why, size_t offset)
        : std::runtime_error(why + " at byte " + std::to_string(offset))
        , why(std::move(why))
        , offset(offset)
    { }
    std::string why;
    size_t offset;
};

/// Parses one JSON document (and nothing after it but white space). @throws JsonError.
JsonValue parseJson(std::string_view text);

/// A string as a JSON string body (quotes, backslashes and control characters escaped), for writing headers.
std::string jsonEscape(const std::string& s);

} // namespace Winnow::nn
