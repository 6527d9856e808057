#include "base/coding.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <limits>

namespace tri::coding {
namespace {

TEST(CodingTest, FixedWidthIsLittleEndian) {
  std::string out;
  PutFixed32(out, 0x04030201u);
  PutFixed64(out, 0x0807060504030201ull);
  ASSERT_EQ(out.size(), 12u);
  EXPECT_EQ(out.substr(0, 4), std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(out.substr(4), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(DecodeFixed32(out.data()), 0x04030201u);
  EXPECT_EQ(DecodeFixed64(out.data() + 4), 0x0807060504030201ull);
}

TEST(CodingTest, VarintBoundaries) {
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{127}, std::uint64_t{128},
                          std::uint64_t{16383}, std::uint64_t{16384},
                          std::numeric_limits<std::uint64_t>::max()}) {
    std::string out;
    PutVarint64(out, v);
    EXPECT_EQ(out.size(), VarintLength(v)) << v;
    Decoder d(out);
    std::uint64_t back = 0;
    ASSERT_TRUE(d.ReadVarint64(back)) << v;
    EXPECT_EQ(back, v);
    EXPECT_TRUE(d.done());
  }
}

TEST(CodingTest, RejectsOverlongAndOverflowingVarints) {
  Decoder overflow(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10));
  std::uint64_t v = 0;
  EXPECT_FALSE(overflow.ReadVarint64(v));
  EXPECT_FALSE(overflow.ok());
  Decoder overlong(std::string(11, '\x80'));
  EXPECT_FALSE(overlong.ReadVarint64(v));
  Decoder too_big_for_32(std::string("\x80\x80\x80\x80\x10", 5));
  std::uint32_t v32 = 0;
  EXPECT_FALSE(too_big_for_32.ReadVarint32(v32));
}

TEST(CodingTest, TruncatedInputFailsAndStaysFailed) {
  std::string out;
  PutFixed64(out, 7);
  Decoder d(std::string_view(out).substr(0, 5));
  std::uint64_t v = 0;
  EXPECT_FALSE(d.ReadFixed64(v));
  std::uint8_t b = 0;
  EXPECT_FALSE(d.ReadFixed8(b));  // failed decoders stay failed
  EXPECT_FALSE(d.ok());
}

TEST(CodingTest, LengthPrefixedRespectsBound) {
  std::string out;
  PutLengthPrefixed(out, "hello");
  std::string_view s;
  Decoder bounded(out);
  EXPECT_FALSE(bounded.ReadLengthPrefixed(s, 4));
  Decoder d(out);
  ASSERT_TRUE(d.ReadLengthPrefixed(s, 5));
  EXPECT_EQ(s, "hello");
  // A length larger than the input is refused, not read past the end.
  std::string lying;
  PutVarint64(lying, 1000);
  lying += "abc";
  Decoder liar(lying);
  EXPECT_FALSE(liar.ReadLengthPrefixed(s));
}

RC_GTEST_PROP(CodingProps, RoundTripsAnySequence,
              (std::vector<std::uint64_t> ints, std::vector<std::string> strings)) {
  std::string out;
  for (auto v : ints) {
    PutVarint64(out, v);
    PutFixed64(out, v);
    PutFixed32(out, static_cast<std::uint32_t>(v));
  }
  for (const auto& s : strings) PutLengthPrefixed(out, s);
  Decoder d(out);
  for (auto v : ints) {
    std::uint64_t a = 0, b = 0;
    std::uint32_t c = 0;
    RC_ASSERT(d.ReadVarint64(a));
    RC_ASSERT(d.ReadFixed64(b));
    RC_ASSERT(d.ReadFixed32(c));
    RC_ASSERT(a == v);
    RC_ASSERT(b == v);
    RC_ASSERT(c == static_cast<std::uint32_t>(v));
  }
  for (const auto& s : strings) {
    std::string back;
    RC_ASSERT(d.ReadLengthPrefixed(back));
    RC_ASSERT(back == s);
  }
  RC_ASSERT(d.done());
}

}  // namespace
}  // namespace tri::coding
