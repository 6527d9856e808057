// The document's bytes: invalid UTF-8 is refused before parsing, with the
// same located message in YAML and JSON.
#include <gtest/gtest.h>

#include "saga/dsl/document_text.h"
#include "saga/dsl/parser.h"

namespace tri::saga {
namespace {

std::string Errors(std::string_view text, std::string_view file) {
  auto spec = ParseSaga(text, file);
  EXPECT_FALSE(spec.ok()) << "accepted:\n" << text;
  return spec.ok() ? "" : spec.status().message();
}

TEST(DslEncoding, FirstInvalidUtf8FindsEachKindOfIllFormedSequence) {
  EXPECT_EQ(FirstInvalidUtf8(""), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("plain ascii"), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("\xEF\xBB\xBFname"), std::nullopt);  // a BOM is UTF-8
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x8F\xBF\xBF"), std::nullopt);  // U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("ab\xFF"), 2u);                      // never in UTF-8
  EXPECT_EQ(FirstInvalidUtf8("a\x80"), 1u);                       // lone continuation
  EXPECT_EQ(FirstInvalidUtf8("a\xC3"), 1u);                       // truncated at the end
  EXPECT_EQ(FirstInvalidUtf8("a\xC3(b"), 1u);                     // bad continuation
  EXPECT_EQ(FirstInvalidUtf8("\xC0\xAF"), 0u);                    // overlong '/'
  EXPECT_EQ(FirstInvalidUtf8("\xE0\x80\xAF"), 0u);                // overlong, 3 bytes
  EXPECT_EQ(FirstInvalidUtf8("\xF0\x80\x80\xAF"), 0u);            // overlong, 4 bytes
  EXPECT_EQ(FirstInvalidUtf8("x\xED\xA0\x80"), 1u);               // a surrogate (U+D800)
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x90\x80\x80"), 0u);            // above U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(FirstInvalidUtf8("\xE2\x82"), 0u);  // truncated, 3 bytes
}

TEST(DslEncoding, YamlAndJsonRejectInvalidUtf8WithTheSameLocatedMessage) {
  const std::string yaml = "name: s\nsteps:\n  - id: a\n    run: {fail: {message: \"bad \xFF\"}}\n";
  EXPECT_EQ(Errors(yaml, "s.yaml"),
            "s.yaml:4:32: invalid UTF-8 at byte offset 56 (byte 0xFF); a saga document must be "
            "UTF-8");
  const std::string json =
      "{\"name\": \"s\",\n \"steps\": [{\"id\": \"a\",\n  \"run\": {\"fail\": {\"message\": \"bad "
      "\xC3(\"}}}]}";
  EXPECT_EQ(Errors(json, "s.json"),
            "s.json:3:36: invalid UTF-8 at byte offset 72 (byte 0xC3); a saga document must be "
            "UTF-8");
  // The same bytes give the same message whichever format the name implies.
  EXPECT_EQ(Errors(json, "s.yaml"),
            "s.yaml:3:36: invalid UTF-8 at byte offset 72 (byte 0xC3); a saga document must be "
            "UTF-8");
}

TEST(DslEncoding, ValidUtf8TextIsKeptAsIs) {
  auto spec = ParseSaga(
      "name: s\nsteps:\n  - {id: a, run: {fail: {message: \"caf\xC3\xA9 \xE2\x82\xAC\"}}}\n",
      "s.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(std::get<FailAction>(spec->steps[0].run).message, "caf\xC3\xA9 \xE2\x82\xAC");
}

}  // namespace
}  // namespace tri::saga
