// Arbitrary bytes decoded as a CRDT state (crdt/): byte 0 picks the type from
// kDecoders, the rest is the encoding, header included. Decoding may refuse the
// input; it must not crash, hang or leak. A state it accepts must re-encode to
// bytes that decode to the same state, and merging it with itself must leave it
// unchanged (the join is idempotent on every state the decoder admits).
//
// Small limits, so the fuzzer reaches the bound checks.
//
// To add a type: one line in kDecoders (and seeds in fuzz/seeds/fuzz_crdt_decode/
// whose first byte is its index).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "crdt/gset.h"
#include "crdt/limits.h"
#include "crdt/or_set.h"

namespace {

constexpr tri::crdt::Limits kLimits{.max_replicas = 16, .max_elements = 256, .max_value_bytes = 64};

// Types whose Merge returns a Status.
template <typename T>
void DecodeAndCheck(std::string_view bytes) {
  tri::Result<T> decoded = T::Decode(bytes, kLimits);
  if (!decoded.ok()) {
    TRI_ASSERT(!decoded.status().message().empty());
    return;
  }
  tri::Result<T> again = T::Decode(decoded->Encode(), kLimits);
  TRI_ASSERT_MSG(again.ok(), "an accepted state re-encodes to bytes its decoder refuses");
  TRI_ASSERT_MSG(*again == *decoded, "decode(encode(state)) differs from the state");
  T joined = *decoded;
  TRI_ASSERT_MSG(joined.Merge(*decoded).ok(), "merging a state with itself passed a bound");
  TRI_ASSERT_MSG(joined == *decoded, "merging a state with itself changed it");
}

using DecodeFn = void (*)(std::string_view);

// Index = the input's first byte modulo the table size; never reorder (seeds name indexes).
constexpr DecodeFn kDecoders[] = {
    &DecodeAndCheck<tri::crdt::GSet>,   // 0
    &DecodeAndCheck<tri::crdt::OrSet>,  // 1
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  constexpr std::size_t kTypes = sizeof(kDecoders) / sizeof(kDecoders[0]);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  kDecoders[data[0] % kTypes](bytes);
  return 0;
}
