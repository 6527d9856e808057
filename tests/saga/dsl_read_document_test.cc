// Reading saga documents for the CLI (src/cli/read_document.h): files,
// standard input, the size bound, and errors that name the source.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/read_document.h"

namespace tri::cli {
namespace {

constexpr std::string_view kSaga = R"({"name": "s", "steps": [{"id": "a", "run": "noop"}]})";

std::string WriteTemp(const std::string& name, std::string_view text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << text;
  return path;
}

// Runs `body` with standard input reading `text` (through a temporary file).
template <typename Body>
void WithStdin(std::string_view text, Body body) {
  const std::string path = WriteTemp("dsl_read_document_stdin", text);
  const int saved = ::dup(STDIN_FILENO);
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::dup2(fd, STDIN_FILENO), STDIN_FILENO);
  ::close(fd);
  body();
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
}

TEST(ReadDocument, LoadsAFileAndLocatesErrorsInIt) {
  const std::string path = WriteTemp("read_document_ok.json", kSaga);
  auto spec = LoadSagaDocument(path);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->steps.size(), 1u);
  EXPECT_EQ(spec->steps[0].location.file, path);

  const std::string bad = WriteTemp("read_document_bad.yaml", "name: s\nsteps: []\n");
  auto invalid = LoadSagaDocument(bad);
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.status().message(),
            bad + ":2:8: field 'steps': a saga needs at least one step");
}

TEST(ReadDocument, MissingFileIsNotFoundAndADirectoryIsAnIoError) {
  const std::string path = ::testing::TempDir() + "/read_document_no_such_file.yaml";
  auto missing = ReadDocument(path, 1000);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), path + ": no such file");

  auto directory = ReadDocument(::testing::TempDir(), 1000);
  EXPECT_EQ(directory.status().code(), StatusCode::kIoError);
  EXPECT_NE(directory.status().message().find("is a directory"), std::string::npos);
}

TEST(ReadDocument, AFileOverTheLimitIsRefusedWithItsSize) {
  const std::string path = WriteTemp("read_document_big.json", kSaga);
  auto too_big = ReadDocument(path, 16);
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_big.status().message(), path + ": document is " + std::to_string(kSaga.size()) +
                                            " bytes, over the limit of 16 bytes");
  saga::SagaLimits small;
  small.max_document_bytes = 16;
  EXPECT_EQ(LoadSagaDocument(path, small).status().code(), StatusCode::kInvalidArgument);
  // Exactly at the limit is fine.
  auto exact = ReadDocument(path, kSaga.size());
  ASSERT_TRUE(exact.ok()) << exact.status().message();
  EXPECT_EQ(exact->text, kSaga);
}

TEST(ReadDocument, DashReadsStandardInputNamedStdin) {
  WithStdin(kSaga, [] {
    auto document = ReadDocument("-", 1000);
    ASSERT_TRUE(document.ok()) << document.status().message();
    EXPECT_EQ(document->text, kSaga);
    EXPECT_EQ(document->source_name, "<stdin>");
  });
  WithStdin("name: s\nsteps: [{id: a}]\n", [] {
    auto spec = LoadSagaDocument("-");
    EXPECT_EQ(spec.status().message(), "<stdin>:2:9: step 'a': missing required field 'run'");
  });
}

TEST(ReadDocument, StandardInputOverTheLimitStopsReading) {
  WithStdin(std::string(100'000, ' '), [] {
    auto document = ReadDocument("-", 1000);
    EXPECT_EQ(document.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(document.status().message(), "<stdin>: document is over the limit of 1000 bytes");
  });
}

}  // namespace
}  // namespace tri::cli
