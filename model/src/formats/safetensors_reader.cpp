// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end)}, "__metadata__": {str: str}}),
// then the data section; offsets are relative to its start.
#include <algorithm>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "formats/weight_file_parsers.h"
#include "lutc/model/error.h"

namespace lutc {
namespace {

using nlohmann::json;

// The safetensors format itself refuses headers above 100 MB; anything larger
// is a corrupt length field, not a real header.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

class HeaderParser {
 public:
  HeaderParser(const std::string& file, uint64_t data_start, uint64_t data_size)
      : file_(file), data_start_(data_start), data_size_(data_size) {}

  TensorInfo tensor(const std::string& name, const json& e) const {
    if (!e.is_object()) fail(name, "entry is not a JSON object");
    TensorInfo t;
    t.name = name;

    const auto dt = e.find("dtype");
    if (dt == e.end() || !dt->is_string()) fail(name, "missing or non-string 'dtype'");
    if (!parse_dtype(dt->get<std::string>(), &t.dtype)) {
      fail(name, "unknown dtype '" + dt->get<std::string>() +
                     "' (weights: F32, F16, BF16; also listed: F64, I/U 8-64, BOOL, F8_E4M3, F8_E5M2)");
    }

    const auto sh = e.find("shape");
    if (sh == e.end() || !sh->is_array()) fail(name, "missing or non-array 'shape'");
    uint64_t elements = 1;
    for (const json& d : *sh) {
      if (!d.is_number_unsigned())
        fail(name, "shape " + sh->dump() + " has an entry that is not a non-negative integer");
      const uint64_t v = d.get<uint64_t>();
      // Room for the widest dtype (8 bytes) times the element count.
      if (v != 0 && elements > std::numeric_limits<uint64_t>::max() / 8 / v) {
        fail(name, "shape " + sh->dump() + " is too large");
      }
      elements *= v;
      t.shape.push_back(v);
    }

    const auto off = e.find("data_offsets");
    if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned()) {
      fail(name, "'data_offsets' must be two non-negative integers");
    }
    const uint64_t begin = (*off)[0].get<uint64_t>(), end = (*off)[1].get<uint64_t>();
    if (begin > end) fail(name, "data_offsets begin " + std::to_string(begin) + " > end " + std::to_string(end));
    if (end > data_size_) {
      fail_input(file_, name, static_cast<long long>(data_start_) + static_cast<long long>(std::min(begin, data_size_)),
                 "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") run past the end of the data section (" + std::to_string(data_size_) +
                     " bytes; file truncated?)");
    }
    t.offset = data_start_ + begin;
    t.nbytes = end - begin;
    const uint64_t expected = elements * dtype_size(t.dtype);
    if (t.nbytes != expected) {
      fail_input(file_, name, static_cast<long long>(t.offset),
                 "shape " + sh->dump() + " of " + dtype_name(t.dtype) + " needs " + std::to_string(expected) +
                     " bytes but data_offsets span " + std::to_string(t.nbytes));
    }
    return t;
  }

  std::map<std::string, std::string> metadata(const json& m) const {
    if (!m.is_object()) fail("__metadata__", "is not a JSON object");
    std::map<std::string, std::string> out;
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (!it->is_string()) fail("__metadata__", "value of '" + it.key() + "' is not a string");
      out[it.key()] = it->get<std::string>();
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& tensor, const std::string& what) const {
    fail_input(file_, tensor, -1, what);
  }
  const std::string& file_;
  uint64_t data_start_, data_size_;
};

void reject_overlaps(const std::string& file, std::vector<TensorInfo>& tensors) {
  std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.name < b.name;
  });
  const TensorInfo* prev = nullptr;
  for (const TensorInfo& t : tensors) {
    if (t.nbytes == 0) continue;  // empty tensors occupy no bytes
    if (prev && prev->offset + prev->nbytes > t.offset) {
      fail_input(file, t.name, static_cast<long long>(t.offset),
                 "data overlaps tensor '" + prev->name + "' (which ends at offset " +
                     std::to_string(prev->offset + prev->nbytes) + ")");
    }
    prev = &t;
  }
}

// The header's byte length (the u64 at offset 0), checked against the file.
uint64_t header_length(const std::string& file, const uint8_t* p, uint64_t size) {
  if (size < 8) fail_input(file, "", 0, "too small for a safetensors header (" + std::to_string(size) + " bytes)");
  const uint64_t n = load_le64(p);
  if (n > size - 8) {
    fail_input(file, "", 0,
               "safetensors header length " + std::to_string(n) + " runs past the end of the file (" +
                   std::to_string(size) + " bytes)");
  }
  if (n > kMaxHeaderBytes) fail_input(file, "", 0, "absurd safetensors header length " + std::to_string(n));
  if (n < 2) fail_input(file, "", 0, "safetensors header length " + std::to_string(n) + " is too short for JSON");
  return n;
}

// The JSON header of n bytes at p + 8: an object naming each tensor once.
json parse_header(const std::string& file, const uint8_t* p, uint64_t n) {
  json header;
  // A JSON object may repeat a key and nlohmann keeps the last one: a tensor
  // named twice would silently lose its first entry. The top-level keys are
  // watched as they are parsed.
  std::set<std::string> names;
  std::string repeated;
  int depth = 0;
  const json::parser_callback_t watch = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) ++depth;
    if (event == json::parse_event_t::object_end) --depth;
    if (event == json::parse_event_t::key && depth == 1 && !names.insert(parsed.get<std::string>()).second &&
        repeated.empty())
      repeated = parsed.get<std::string>();
    return true;
  };
  try {
    header = json::parse(p + 8, p + 8 + n, watch);
  } catch (const json::parse_error& e) {
    // e.byte counts from 1 within the header; the header starts at byte 8.
    fail_input(file, "", 8 + static_cast<long long>(e.byte ? e.byte - 1 : 0),
               std::string("safetensors header is not valid JSON (") + e.what() + ")");
  } catch (const json::exception& e) {  // a number too large for any type: out_of_range.406
    fail_input(file, "", 8, std::string("safetensors header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) fail_input(file, "", 8, "safetensors header is not a JSON object");
  if (!repeated.empty()) fail_input(file, repeated, 8, "the header names this tensor more than once");
  return header;
}

}  // namespace

void WeightFileParsers::parse_safetensors(WeightFile& w, uint32_t file_index) {
  const MappedFile& m = map(w, file_index);
  const std::string& file = m.path();
  const uint8_t* p = m.data();
  const uint64_t size = m.size();
  const uint64_t n = header_length(file, p, size);
  const json header = parse_header(file, p, n);

  const uint64_t data_start = 8 + n;
  HeaderParser parser(file, data_start, size - data_start);
  std::vector<TensorInfo> out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      // Shards of one checkpoint repeat the same metadata; the first one wins.
      for (auto& [k, v] : parser.metadata(*it)) metadata(w).emplace(k, v);
    } else {
      out.push_back(parser.tensor(it.key(), *it));
      out.back().file = file_index;
    }
  }
  // Offset order is the file's natural listing order and what the overlap
  // check needs; it runs per file, as offsets of different shards never meet.
  reject_overlaps(file, out);
  std::vector<TensorInfo>& all = tensors(w);
  all.insert(all.end(), out.begin(), out.end());
}

}  // namespace lutc
