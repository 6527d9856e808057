// Encodings of the KV requests that go into the log.

#include "rsm/kv_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

using testing::DeleteReq;
using testing::Op;
using testing::PutReq;
using testing::RangeReq;
using testing::TxnReq;
using testing::ValueIs;

RangeRequest FullRange() {
  RangeRequest r = RangeReq("a", "z");
  r.limit = 5;
  r.revision = -3;
  r.sort_order = RangeRequest::DESCEND;
  r.sort_target = RangeRequest::VALUE;
  r.serializable = true;
  r.keys_only = true;
  r.count_only = true;
  r.min_mod_revision = 1;
  r.max_mod_revision = 2;
  r.min_create_revision = 3;
  r.max_create_revision = INT64_MAX;
  return r;
}

TxnRequest NestedTxn() {
  PutRequest put = PutReq("k", std::string("\0\xff", 2));
  put.prev_kv = true;
  put.lease = -1;
  Compare c = ValueIs("c", "v");
  c.result = Compare::NOT_EQUAL;
  c.target = Compare::LEASE;
  c.lease = 9;
  c.range_end = "d";
  return TxnReq({c, ValueIs("x", "")},
                {Op(put), Op(FullRange()),
                 Op(TxnReq({}, {Op(DeleteReq("a", std::string(1, '\0')))}, {Op(RangeReq("q"))}))},
                {Op(DeleteReq("b"))});
}

TEST(KvCodec, EveryRequestKindRoundTrips) {
  const std::vector<KvRequest> requests = {FullRange(), PutReq("a", "b"), DeleteReq("a", "b"),
                                           NestedTxn(), CompactionRequest{42, true}};
  for (const KvRequest& request : requests) {
    auto decoded = DecodeKvRequest(EncodeKvRequest(request));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(*decoded == request) << "kind " << request.index();
  }
}

TEST(KvCodec, AlarmRequestRoundTrips) {
  const AlarmRequest request{AlarmRequest::DEACTIVATE, 77, AlarmType::NOSPACE};
  auto decoded = DecodeAlarmRequest(EncodeAlarmRequest(request));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, request);
}

TEST(KvCodec, EveryTruncationOfANestedTxnFails) {
  const std::string bytes = EncodeKvRequest(NestedTxn());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeKvRequest(bytes.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(KvCodec, TrailingBytesFail) {
  EXPECT_FALSE(DecodeKvRequest(EncodeKvRequest(PutReq("a", "b")) + "x").ok());
}

TEST(KvCodec, ABooleanOtherThanZeroOrOneFailsNamingTheField) {
  std::string bytes = EncodeKvRequest(PutReq("a", "b"));
  bytes.back() = 2;  // ignore_lease
  auto decoded = DecodeKvRequest(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("PutRequest.ignore_lease"), std::string::npos)
      << decoded.status().message();
}

TEST(KvCodec, AnEnumOutOfRangeFailsNamingTheField) {
  RangeRequest r = RangeReq("a");
  std::string bytes = EncodeKvRequest(r);
  // tag, key (2), range_end (1), limit (1), revision (1), then sort_order.
  bytes[6] = 3;
  auto decoded = DecodeKvRequest(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("RangeRequest.sort_order"), std::string::npos)
      << decoded.status().message();
}

TEST(KvCodec, AnUnknownRequestTagFails) {
  auto decoded = DecodeKvRequest(std::string(1, '\x09'));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("unknown request kind 9"), std::string::npos);
}

TEST(KvCodec, AnOpCountLargerThanTheInputFailsWithoutAllocating) {
  std::string bytes(1, static_cast<char>(KvRequestTag::kTxn));
  coding::PutVarint64(bytes, 0);           // compares
  coding::PutVarint64(bytes, 1ull << 60);  // success ops
  auto decoded = DecodeKvRequest(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("exceeds the input"), std::string::npos);
}

TEST(KvCodec, NestingDeeperThanTheLimitFails) {
  TxnRequest txn;
  for (int i = 0; i < 5; ++i)
    txn = TxnReq({}, {Op(std::move(txn))});
  const std::string bytes = EncodeKvRequest(txn);
  EXPECT_TRUE(DecodeKvRequest(bytes, KvDecodeLimits{5}).ok());
  auto decoded = DecodeKvRequest(bytes, KvDecodeLimits{4});
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace tri::rsm
