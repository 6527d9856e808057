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
#include "crdt/dotted_version_vector.h"
#include "crdt/g_counter.h"
#include "crdt/gset.h"
#include "crdt/hlc.h"
#include "crdt/limits.h"
#include "crdt/lww_map.h"
#include "crdt/lww_register.h"
#include "crdt/mv_register.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"
#include "crdt/version_vector.h"

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

// The clocks (version vectors, dotted version vectors): Merge is total (void).
template <typename T>
void DecodeClockAndCheck(std::string_view bytes) {
  tri::Result<T> decoded = T::Decode(bytes, kLimits);
  if (!decoded.ok()) {
    TRI_ASSERT(!decoded.status().message().empty());
    return;
  }
  tri::Result<T> again = T::Decode(decoded->Encode(), kLimits);
  TRI_ASSERT_MSG(again.ok(), "an accepted clock re-encodes to bytes its decoder refuses");
  TRI_ASSERT_MSG(*again == *decoded, "decode(encode(clock)) differs from the clock");
  T joined = *decoded;
  joined.Merge(*decoded);
  TRI_ASSERT_MSG(joined == *decoded, "merging a clock with itself changed it");
}

void DecodeHlcTimestamp(std::string_view bytes) {
  auto decoded = tri::crdt::HlcTimestamp::Decode(bytes);
  if (!decoded.ok()) {
    TRI_ASSERT(!decoded.status().message().empty());
    return;
  }
  auto again = tri::crdt::HlcTimestamp::Decode(decoded->Encode());
  TRI_ASSERT_MSG(again.ok() && *again == *decoded, "hlc timestamp does not round-trip");
}

using DecodeFn = void (*)(std::string_view);

// Index = the input's first byte modulo the table size; never reorder (seeds name indexes).
constexpr DecodeFn kDecoders[] = {
    &DecodeAndCheck<tri::crdt::GSet>,                      // 0
    &DecodeAndCheck<tri::crdt::OrSet>,                     // 1
    &DecodeClockAndCheck<tri::crdt::VersionVector>,        // 2
    &DecodeClockAndCheck<tri::crdt::DottedVersionVector>,  // 3
    &DecodeHlcTimestamp,                                   // 4
    &DecodeAndCheck<tri::crdt::GCounter>,                  // 5
    &DecodeAndCheck<tri::crdt::PNCounter>,                 // 6
    &DecodeAndCheck<tri::crdt::LwwRegister>,               // 7
    &DecodeAndCheck<tri::crdt::MvRegister>,                // 8
    &DecodeAndCheck<tri::crdt::LwwMap>,                    // 9
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  constexpr std::size_t kTypes = sizeof(kDecoders) / sizeof(kDecoders[0]);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  kDecoders[data[0] % kTypes](bytes);
  return 0;
}
