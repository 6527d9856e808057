#include "rsm/saga_codec.h"

#include <type_traits>

#include "base/coding.h"

namespace tri::rsm {

namespace {

enum class Op : std::uint8_t { kDefine = 1, kStart = 2, kAbort = 3, kInputs = 4 };

void PutInput(std::string& out, const SagaInput& in) {
  out.push_back(static_cast<char>(in.kind));
  coding::PutLengthPrefixed(out, in.saga_id);
  switch (in.kind) {
    case SagaInput::Kind::kTimerFired:
      coding::PutVarint64(out, in.timer);
      return;
    case SagaInput::Kind::kStarted:
    case SagaInput::Kind::kSucceeded:
    case SagaInput::Kind::kFailed:
      out.push_back(static_cast<char>(in.phase));
      coding::PutVarint64(out, in.step);
      coding::PutVarint64(out, in.attempt);
      break;
  }
  if (in.kind == SagaInput::Kind::kStarted) return;
  coding::PutVarint64(out, in.dispatch);
  if (in.kind == SagaInput::Kind::kFailed) {
    coding::PutVarint64(out, static_cast<std::uint32_t>(in.code));
    out.push_back(in.retryable ? 1 : 0);
  }
  coding::PutLengthPrefixed(out, in.payload);
}

Status Bad(const coding::Decoder& in, const std::string& what) {
  return InvalidArgument("saga command: " + what + " at byte " + std::to_string(in.position()));
}

Result<SagaInput> ReadInput(coding::Decoder& in, std::uint64_t max_payload) {
  SagaInput input;
  std::uint8_t kind = 0;
  if (!in.ReadFixed8(kind)) return Bad(in, "input kind truncated");
  if (kind < 1 || kind > 4) return Bad(in, "unknown input kind " + std::to_string(kind));
  input.kind = static_cast<SagaInput::Kind>(kind);
  if (!in.ReadLengthPrefixed(input.saga_id, 1024)) return Bad(in, "saga id truncated or too long");
  if (input.kind == SagaInput::Kind::kTimerFired) {
    if (!in.ReadVarint64(input.timer)) return Bad(in, "timer id truncated");
    return input;
  }
  std::uint8_t phase = 0;
  std::uint32_t step = 0;
  if (!in.ReadFixed8(phase) || phase > 1) return Bad(in, "attempt phase truncated or unknown");
  input.phase = static_cast<saga::AttemptPhase>(phase);
  if (!in.ReadVarint32(step) || !in.ReadVarint32(input.attempt)) {
    return Bad(in, "step or attempt truncated");
  }
  input.step = step;
  if (input.kind == SagaInput::Kind::kStarted) return input;
  if (!in.ReadVarint64(input.dispatch)) return Bad(in, "dispatch token truncated");
  if (input.kind == SagaInput::Kind::kFailed) {
    std::uint32_t code = 0;
    std::uint8_t retryable = 0;
    if (!in.ReadVarint32(code) || !in.ReadFixed8(retryable) || retryable > 1) {
      return Bad(in, "failure code or retryable flag truncated or invalid");
    }
    input.code = static_cast<int>(code);
    input.retryable = retryable == 1;
  }
  if (!in.ReadLengthPrefixed(input.payload, max_payload)) {
    return Bad(in, "result payload truncated or too large");
  }
  return input;
}

}  // namespace

std::string EncodeSagaCommand(const SagaCommand& command) {
  std::string out;
  std::visit(
      [&out](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, SagaDefineCommand>) {
          out.push_back(static_cast<char>(Op::kDefine));
          coding::PutLengthPrefixed(out, c.document);
          coding::PutLengthPrefixed(out, c.source_name);
        } else if constexpr (std::is_same_v<T, SagaStartCommand>) {
          out.push_back(static_cast<char>(Op::kStart));
          coding::PutLengthPrefixed(out, c.saga_id);
          coding::PutLengthPrefixed(out, c.definition_name);
          coding::PutVarint64(out, c.definition_version);
          coding::PutLengthPrefixed(out, c.inline_document);
          coding::PutVarint64(out, c.inputs.size());
          for (const auto& [name, value] : c.inputs) {
            coding::PutLengthPrefixed(out, name);
            coding::PutLengthPrefixed(out, value);
          }
        } else if constexpr (std::is_same_v<T, SagaAbortCommand>) {
          out.push_back(static_cast<char>(Op::kAbort));
          coding::PutLengthPrefixed(out, c.saga_id);
        } else {
          out.push_back(static_cast<char>(Op::kInputs));
          coding::PutVarint64(out, c.inputs.size());
          for (const SagaInput& input : c.inputs)
            PutInput(out, input);
        }
      },
      command);
  return out;
}

Result<SagaCommand> DecodeSagaCommand(std::string_view bytes, const SagaDecodeLimits& limits) {
  coding::Decoder in(bytes);
  std::uint8_t op = 0;
  if (!in.ReadFixed8(op)) return Bad(in, "operation truncated");
  SagaCommand command;
  switch (static_cast<Op>(op)) {
    case Op::kDefine: {
      SagaDefineCommand c;
      if (!in.ReadLengthPrefixed(c.document, limits.max_document_bytes)) {
        return Bad(in, "document truncated or larger than " +
                           std::to_string(limits.max_document_bytes) + " bytes");
      }
      if (!in.ReadLengthPrefixed(c.source_name, 4096)) return Bad(in, "source name truncated");
      command = std::move(c);
      break;
    }
    case Op::kStart: {
      SagaStartCommand c;
      std::uint64_t n = 0;
      if (!in.ReadLengthPrefixed(c.saga_id, 1024) ||
          !in.ReadLengthPrefixed(c.definition_name, 4096) ||
          !in.ReadVarint32(c.definition_version)) {
        return Bad(in, "saga id, definition name or version truncated");
      }
      if (!in.ReadLengthPrefixed(c.inline_document, limits.max_document_bytes)) {
        return Bad(in, "inline document truncated or too large");
      }
      if (!in.ReadVarint64(n) || n > in.remaining()) return Bad(in, "input count truncated");
      for (std::uint64_t i = 0; i < n; ++i) {
        std::string name, value;
        if (!in.ReadLengthPrefixed(name) || !in.ReadLengthPrefixed(value)) {
          return Bad(in, "input " + std::to_string(i) + " truncated");
        }
        c.inputs.emplace_back(std::move(name), std::move(value));
      }
      command = std::move(c);
      break;
    }
    case Op::kAbort: {
      SagaAbortCommand c;
      if (!in.ReadLengthPrefixed(c.saga_id, 1024)) return Bad(in, "saga id truncated");
      command = std::move(c);
      break;
    }
    case Op::kInputs: {
      SagaInputsCommand c;
      std::uint64_t n = 0;
      if (!in.ReadVarint64(n) || n > in.remaining() || n > limits.max_inputs_per_entry) {
        return Bad(in,
                   "input count truncated or above " + std::to_string(limits.max_inputs_per_entry));
      }
      c.inputs.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) {
        TRI_ASSIGN_OR_RETURN(SagaInput input, ReadInput(in, limits.max_document_bytes));
        c.inputs.push_back(std::move(input));
      }
      command = std::move(c);
      break;
    }
    default:
      return Bad(in, "unknown operation " + std::to_string(op));
  }
  if (!in.done()) return Bad(in, std::to_string(in.remaining()) + " trailing bytes");
  return command;
}

}  // namespace tri::rsm
