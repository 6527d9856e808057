#include "cli/read_document.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "saga/dsl/parser.h"

namespace tri::cli {
namespace {

std::string OverLimit(const std::string& name, std::uint64_t max_bytes) {
  return name + ": document is over the limit of " + std::to_string(max_bytes) + " bytes";
}

// Reads `fd` to its end, failing as soon as more than `max_bytes` arrived
// (so an endless stream costs at most max_bytes + one buffer).
Result<std::string> ReadAll(int fd, const std::string& name, std::uint64_t max_bytes) {
  std::string text;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(name + ": read failed: " + std::strerror(errno));
    }
    if (n == 0) break;
    if (text.size() + static_cast<std::uint64_t>(n) > max_bytes) {
      return InvalidArgument(OverLimit(name, max_bytes));
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Result<Document> ReadDocument(const std::string& path, std::uint64_t max_bytes) {
  if (path == "-") {
    Document document{.text = {}, .source_name = "<stdin>"};
    TRI_ASSIGN_OR_RETURN(document.text, ReadAll(STDIN_FILENO, document.source_name, max_bytes));
    return document;
  }
  const ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFound(path + ": no such file");
    return IoError(path + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return IoError(path + ": " + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return IoError(path + ": is a directory, not a saga document");
  if (S_ISREG(info.st_mode) && static_cast<std::uint64_t>(info.st_size) > max_bytes) {
    return InvalidArgument(path + ": document is " + std::to_string(info.st_size) +
                           " bytes, over the limit of " + std::to_string(max_bytes) + " bytes");
  }
  Document document{.text = {}, .source_name = path};
  TRI_ASSIGN_OR_RETURN(document.text, ReadAll(fd.get(), path, max_bytes));
  return document;
}

Result<saga::SagaSpec> LoadSagaDocument(const std::string& path, const saga::SagaLimits& limits) {
  TRI_ASSIGN_OR_RETURN(Document document, ReadDocument(path, limits.max_document_bytes));
  return saga::ParseSaga(document.text, document.source_name, limits);
}

}  // namespace tri::cli
