#pragma once

// Binary encodings of the KV requests that travel in the log (the payload of a
// kKv command) and of AlarmRequest (the payload of a kAlarm command). Written with
// base/coding.h; the layout is in docs/rsm.md. Decoders validate everything (enum
// ranges, booleans, lengths, trailing bytes, nesting depth) and name the field
// that is wrong; they never assert, since a log entry may be corrupt or written by
// a newer version.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "rsm/kv_types.h"

namespace tri::rsm {

// Tags of the KvRequest alternatives on the wire (also RequestOp's tags).
enum class KvRequestTag : std::uint8_t {
  kRange = 1,
  kPut = 2,
  kDeleteRange = 3,
  kTxn = 4,
  kCompaction = 5,
};

struct KvDecodeLimits {
  // Deepest nesting of TxnRequest inside TxnRequest accepted (protobuf's own
  // recursion limit is 100; etcd has no other).
  int max_txn_depth = 64;
};

std::string EncodeKvRequest(const KvRequest& request);
Result<KvRequest> DecodeKvRequest(std::string_view bytes, const KvDecodeLimits& limits = {});

std::string EncodeAlarmRequest(const AlarmRequest& request);
Result<AlarmRequest> DecodeAlarmRequest(std::string_view bytes);

// Shared with the snapshot code: KeyValue fields after the key.
void PutSignedVarint(std::string& out, std::int64_t v);

}  // namespace tri::rsm
