// Message bounding: never over the limit, a prefix/suffix of the input, and
// never cutting a UTF-8 sequence in two.
#include "exec/text_bounds.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace tri::exec {
namespace {

bool StartsWithContinuation(const std::string& s) {
  return !s.empty() && (static_cast<unsigned char>(s.front()) & 0xC0) == 0x80;
}

// True when `s` ends in the middle of a multi-byte sequence.
bool EndsMidSequence(const std::string& s) {
  std::size_t i = s.size();
  int continuation = 0;
  while (i > 0 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) {
    --i;
    ++continuation;
  }
  if (i == 0) return continuation > 0;
  auto lead = static_cast<unsigned char>(s[i - 1]);
  int expected = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  return continuation != expected;
}

// Strings made of whole UTF-8 characters of 1 to 4 bytes.
rc::Gen<std::string> Utf8Text() {
  return rc::gen::map(
      rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 4)),
      [](const std::vector<int>& kinds) {
        static const char* kChars[] = {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
        std::string s;
        for (int k : kinds)
          s += kChars[k];
        return s;
      });
}

RC_GTEST_PROP(TextBounds, TruncateHeadKeepsAWholeCharacterPrefix, ()) {
  std::string text = *Utf8Text();
  auto max_bytes = *rc::gen::inRange<std::uint64_t>(0, text.size() + 3);
  std::string head = TruncateHead(text, max_bytes);
  RC_ASSERT(head.size() <= max_bytes);
  RC_ASSERT(text.compare(0, head.size(), head) == 0);
  RC_ASSERT(!EndsMidSequence(head));
  RC_ASSERT(head.size() + 3 >= std::min<std::uint64_t>(max_bytes, text.size()));
}

RC_GTEST_PROP(TextBounds, TruncateTailKeepsAWholeCharacterSuffix, ()) {
  std::string text = *Utf8Text();
  auto max_bytes = *rc::gen::inRange<std::uint64_t>(0, text.size() + 3);
  std::string tail = TruncateTail(text, max_bytes);
  RC_ASSERT(tail.size() <= max_bytes);
  RC_ASSERT(text.compare(text.size() - tail.size(), tail.size(), tail) == 0);
  RC_ASSERT(!StartsWithContinuation(tail));
  RC_ASSERT(tail.size() + 3 >= std::min<std::uint64_t>(max_bytes, text.size()));
}

TEST(TextBounds, ShortTextIsUnchanged) {
  EXPECT_EQ(TruncateHead("abc", 3), "abc");
  EXPECT_EQ(TruncateTail("abc", 10), "abc");
  EXPECT_EQ(TruncateHead("abcdef", 2), "ab");
  EXPECT_EQ(TruncateTail("abcdef", 2), "ef");
}

}  // namespace
}  // namespace tri::exec
