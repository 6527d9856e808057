#include "exec/text_bounds.h"

#include "exec/blocking_actions.h"

namespace tri::exec {
namespace {

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

std::string TruncateHead(std::string text, std::uint64_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = static_cast<std::size_t>(max_bytes);
  // Back off to the start of the sequence the cut falls into.
  std::size_t limit = cut >= 3 ? cut - 3 : 0;
  while (cut > limit && IsContinuationByte(text[cut]))
    --cut;
  text.resize(cut);
  return text;
}

std::string TruncateTail(std::string text, std::uint64_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t start = text.size() - static_cast<std::size_t>(max_bytes);
  // Skip forward past the rest of a sequence the cut falls into.
  std::size_t limit = start + 3 < text.size() ? start + 3 : text.size();
  while (start < limit && IsContinuationByte(text[start]))
    ++start;
  text.erase(0, start);
  return text;
}

ActionOutcome FailedOutcome(int code, bool retryable, std::string message,
                            std::uint64_t max_message_bytes) {
  return ActionOutcome{.succeeded = false,
                       .code = code,
                       .retryable = retryable,
                       .message = TruncateHead(std::move(message), max_message_bytes)};
}

}  // namespace tri::exec
