#include "base/crc32c.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tri {
namespace {

using ExtendFn = std::uint32_t (*)(std::uint32_t, const void*, std::size_t);

struct Impl {
  const char* name;
  ExtendFn fn;
};

std::vector<Impl> Implementations() {
  std::vector<Impl> impls{{"portable", &crc32c::ExtendPortable}, {"dispatch", &crc32c::Extend}};
  if (crc32c::HardwareAvailable()) impls.push_back({"sse42", &crc32c::ExtendHardware});
  return impls;
}

std::uint32_t Of(ExtendFn fn, const std::vector<std::uint8_t>& bytes) {
  return fn(0, bytes.data(), bytes.size());
}

TEST(Crc32c, MatchesCheckValueOf123456789OnEveryPath) {
  for (const Impl& impl : Implementations()) {
    EXPECT_EQ(impl.fn(0, "123456789", 9), 0xE3069283u) << impl.name;
  }
}

// RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32c, MatchesIscsiTestVectorsOnEveryPath) {
  std::vector<std::uint8_t> zeros(32, 0x00);
  std::vector<std::uint8_t> ones(32, 0xFF);
  std::vector<std::uint8_t> ascending(32);
  std::vector<std::uint8_t> descending(32);
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<std::uint8_t>(i);
    descending[i] = static_cast<std::uint8_t>(31 - i);
  }
  // The READ (10) command PDU of RFC 3720 B.4.
  const std::vector<std::uint8_t> iscsi_read = {
      0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  ASSERT_EQ(iscsi_read.size(), 48u);
  for (const Impl& impl : Implementations()) {
    EXPECT_EQ(Of(impl.fn, zeros), 0x8A9136AAu) << impl.name;
    EXPECT_EQ(Of(impl.fn, ones), 0x62A8AB43u) << impl.name;
    EXPECT_EQ(Of(impl.fn, ascending), 0x46DD794Eu) << impl.name;
    EXPECT_EQ(Of(impl.fn, descending), 0x113FDB5Cu) << impl.name;
    EXPECT_EQ(Of(impl.fn, iscsi_read), 0xD9963A56u) << impl.name;
  }
}

TEST(Crc32c, EmptyInputIsZero) {
  for (const Impl& impl : Implementations())
    EXPECT_EQ(impl.fn(0, "", 0), 0u) << impl.name;
}

RC_GTEST_PROP(Crc32c, ExtendOverASplitEqualsValueOfTheWholeOnEveryPath,
              (const std::string& bytes, std::size_t split_seed)) {
  const std::size_t split = bytes.empty() ? 0 : split_seed % (bytes.size() + 1);
  for (const Impl& impl : Implementations()) {
    const std::uint32_t whole = impl.fn(0, bytes.data(), bytes.size());
    const std::uint32_t first = impl.fn(0, bytes.data(), split);
    RC_ASSERT(impl.fn(first, bytes.data() + split, bytes.size() - split) == whole);
    RC_ASSERT(whole == crc32c::ExtendPortable(0, bytes.data(), bytes.size()));
  }
}

TEST(Crc32c, HardwareAndPortableAgreeAtEveryAlignmentAndLength) {
  if (!crc32c::HardwareAvailable()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::vector<std::uint8_t> buf(300);
  for (std::size_t i = 0; i < buf.size(); ++i)
    buf[i] = static_cast<std::uint8_t>(i * 37 + 11);
  for (std::size_t start = 0; start < 16; ++start) {
    for (std::size_t len = 0; len + start <= buf.size(); len += 7) {
      ASSERT_EQ(crc32c::ExtendHardware(0x1234u, buf.data() + start, len),
                crc32c::ExtendPortable(0x1234u, buf.data() + start, len))
          << "start=" << start << " len=" << len;
    }
  }
}

}  // namespace
}  // namespace tri
