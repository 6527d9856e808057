#include "txn/batch_gen.h"

#include <algorithm>
#include <ostream>
#include <set>
#include <utility>

#include "base/result.h"
#include "base/status.h"
#include "txn/str.h"

namespace tri::txn::testing {

namespace {

std::uint64_t SplitMix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint64_t Mix(std::uint64_t a, std::uint64_t b) {
  return SplitMix(a ^ SplitMix(b));
}

std::uint64_t MixBytes(std::uint64_t h, std::string_view bytes) {
  std::uint64_t fnv = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    fnv = (fnv ^ c) * 0x100000001b3ull;
  }
  return Mix(Mix(h, fnv), bytes.size());
}

// 0 to 16 lowercase hex digits (an empty value is a value, not an absent key).
std::string ValueOf(std::uint64_t x) {
  const std::size_t length = x % 17;
  const std::uint64_t digits = SplitMix(x);
  std::string value;
  value.reserve(length);
  for (std::size_t i = 0; i < length; ++i) {
    value.push_back("0123456789abcdef"[(digits >> (4 * i)) & 15]);
  }
  return value;
}

// Absent and present are told apart before the bytes are mixed in.
constexpr std::uint64_t kAbsent = 0x61627365'6e740000ull;
constexpr std::uint64_t kPresent = 0x70726573'656e7400ull;

Status Interpret(const std::vector<Op>& ops, std::uint32_t index, TxnContext& ctx) {
  std::uint64_t read_hash = SplitMix(index);
  for (std::size_t position = 0; position < ops.size(); ++position) {
    const Op& op = ops[position];
    switch (op.kind) {
      case OpKind::kRead: {
        TRI_ASSIGN_OR_RETURN(std::optional<std::string> value, ctx.Read(KeyName(op.key)));
        read_hash = Mix(read_hash, op.key);
        read_hash = value ? MixBytes(Mix(read_hash, kPresent), *value) : Mix(read_hash, kAbsent);
        break;
      }
      case OpKind::kWrite:
        TRI_RETURN_IF_ERROR(ctx.Write(KeyName(op.key), ValueOf(Mix(read_hash, position))));
        break;
      case OpKind::kDelete:
        TRI_RETURN_IF_ERROR(ctx.Delete(KeyName(op.key)));
        break;
      case OpKind::kAbortIf:
        if (op.modulus != 0 && read_hash % op.modulus == op.remainder % op.modulus) {
          return Aborted(Str("abort-if at op ", position, ": read hash % ", op.modulus,
                             " == ", op.remainder % op.modulus));
        }
        break;
      case OpKind::kCharge:
        TRI_RETURN_IF_ERROR(ctx.Charge(op.gas));
        break;
    }
  }
  return Status::Ok();
}

// rc::gen::weightedOneOf over a list built at run time (RapidCheck's takes an
// initializer list). Shrinks towards the first choice.
template <typename T>
rc::Gen<T> WeightedOneOf(std::vector<std::pair<std::size_t, rc::Gen<T>>> choices) {
  std::size_t total = 0;
  for (const auto& choice : choices)
    total += choice.first;
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, total),
                         [choices = std::move(choices)](std::size_t pick) {
                           for (const auto& [weight, gen] : choices) {
                             if (pick < weight) return gen;
                             pick -= weight;
                           }
                           return choices.back().second;
                         });
}

bool TouchesKey(OpKind kind) {
  return kind == OpKind::kRead || kind == OpKind::kWrite || kind == OpKind::kDelete;
}

// Relative weights of the op kinds in one batch: its read/write mix.
struct OpMix {
  std::size_t read = 1, write = 1, remove = 0, abort_if = 0, charge = 0;
};

rc::Gen<std::uint32_t> GenKey(std::uint32_t key_space, std::uint32_t hot_percent) {
  const std::uint32_t hot_keys = std::min<std::uint32_t>(key_space, 4);
  std::vector<std::pair<std::size_t, rc::Gen<std::uint32_t>>> choices;
  if (hot_percent > 0)
    choices.emplace_back(hot_percent, rc::gen::inRange<std::uint32_t>(0, hot_keys));
  if (hot_percent < 100) {
    choices.emplace_back(100 - hot_percent, rc::gen::inRange<std::uint32_t>(0, key_space));
  }
  return WeightedOneOf(std::move(choices));
}

rc::Gen<Op> GenOp(const OpMix& mix, std::uint32_t key_space, std::uint32_t hot_percent) {
  const rc::Gen<std::uint32_t> key = GenKey(key_space, hot_percent);
  auto keyed = [key](OpKind kind) {
    return rc::gen::map(key, [kind](std::uint32_t k) {
      Op op;
      op.kind = kind;
      op.key = k;
      return op;
    });
  };
  std::vector<std::pair<std::size_t, rc::Gen<Op>>> choices;
  auto add = [&](std::size_t weight, rc::Gen<Op> gen) {
    if (weight > 0) choices.emplace_back(weight, std::move(gen));
  };
  // Reads first: a shrunk op becomes a read.
  add(mix.read, keyed(OpKind::kRead));
  add(mix.write, keyed(OpKind::kWrite));
  add(mix.remove, keyed(OpKind::kDelete));
  add(mix.abort_if, rc::gen::map(rc::gen::tuple(rc::gen::inRange<std::uint32_t>(1, 9),
                                                rc::gen::inRange<std::uint32_t>(0, 8)),
                                 [](const std::tuple<std::uint32_t, std::uint32_t>& mr) {
                                   Op op;
                                   op.kind = OpKind::kAbortIf;
                                   op.modulus = std::get<0>(mr);
                                   op.remainder = std::get<1>(mr);
                                   return op;
                                 }));
  add(mix.charge, rc::gen::map(rc::gen::inRange<std::uint32_t>(0, 20), [](std::uint32_t gas) {
        Op op;
        op.kind = OpKind::kCharge;
        op.gas = gas;
        return op;
      }));
  return WeightedOneOf(std::move(choices));
}

rc::Gen<Program> GenProgram(OpMix mix, std::uint32_t key_space, std::uint32_t hot_percent) {
  const rc::Gen<Op> op = GenOp(mix, key_space, hot_percent);
  return rc::gen::exec([op] {
    Program program;
    const std::size_t max_ops = *rc::gen::weightedElement<std::size_t>({{8, 4}, {3, 12}, {1, 40}});
    program.ops = *rc::gen::resize(static_cast<int>(max_ops),
                                   rc::gen::container<std::vector<Op>>(rc::gen::resize(100, op)));
    // One program in 30 makes one access outside its declared sets.
    std::vector<std::size_t> keyed;
    for (std::size_t i = 0; i < program.ops.size(); ++i) {
      if (TouchesKey(program.ops[i].kind)) keyed.push_back(i);
    }
    if (!keyed.empty() && *rc::gen::weightedElement<bool>({{29, false}, {1, true}})) {
      program.ops[keyed[*rc::gen::inRange<std::size_t>(0, keyed.size())]].undeclared = true;
    }
    // One program in 4 has its own budget, often less than it needs.
    if (*rc::gen::weightedElement<bool>({{3, false}, {1, true}})) {
      std::uint64_t cost = 0;
      for (const Op& o : program.ops)
        cost += TouchesKey(o.kind) ? 1 : o.gas;
      program.gas_budget = *rc::gen::inRange<std::uint64_t>(1, cost + 4);
    }
    return program;
  });
}

// A range [lo, hi] drawn with weight `weight`, clamped to the shape's range.
struct Band {
  std::size_t weight;
  std::uint64_t lo, hi;
};

rc::Gen<std::uint64_t> GenBanded(const std::vector<Band>& bands, std::uint64_t min,
                                 std::uint64_t max) {
  std::vector<std::pair<std::size_t, rc::Gen<std::uint64_t>>> choices;
  for (const Band& band : bands) {
    const std::uint64_t lo = std::max(band.lo, min);
    const std::uint64_t hi = std::min(band.hi, max);
    if (lo <= hi) choices.emplace_back(band.weight, rc::gen::inRange<std::uint64_t>(lo, hi + 1));
  }
  if (choices.empty()) choices.emplace_back(1, rc::gen::just(min));
  return WeightedOneOf(std::move(choices));
}

rc::Gen<TxnLimits> GenLimits(std::uint32_t tight_percent) {
  return rc::gen::exec([tight_percent] {
    TxnLimits limits;
    // Every choice below shrinks towards the default bound (RapidCheck shrinks
    // a number towards the low end of its range).
    const bool tight = *rc::gen::inRange<std::uint32_t>(0, 100) >= 100 - tight_percent;
    if (!tight) return limits;
    // Each bound is tight in about a third of the tight batches.
    auto sometimes = [] { return *rc::gen::inRange(0, 3) == 2; };
    if (sometimes()) limits.max_keys_per_txn = *rc::gen::inRange<std::size_t>(1, 6);
    if (sometimes()) limits.max_key_size = *rc::gen::inRange<std::size_t>(2, 6);
    if (sometimes()) limits.max_value_size = *rc::gen::inRange<std::size_t>(0, 12);
    if (sometimes()) limits.read_gas = *rc::gen::inRange<std::uint64_t>(0, 4);
    if (sometimes()) limits.write_gas = *rc::gen::inRange<std::uint64_t>(0, 4);
    if (sometimes()) {
      limits.max_gas_budget = *rc::gen::inRange<std::uint64_t>(1, 40);
      limits.default_gas_budget = *rc::gen::inRange<std::uint64_t>(1, limits.max_gas_budget + 1);
    } else if (sometimes()) {
      limits.default_gas_budget = *rc::gen::inRange<std::uint64_t>(1, 30);
    }
    // Batch-level bounds: the whole batch is refused when it breaks them.
    if (*rc::gen::inRange(0, 8) == 7) {
      limits.max_batch_size = *rc::gen::inRange<std::size_t>(0, 8);
    }
    if (*rc::gen::inRange(0, 20) == 19) limits.default_gas_budget = limits.max_gas_budget + 1;
    return limits;
  });
}

std::set<std::uint32_t> KeysOf(const BatchSpec& spec) {
  std::set<std::uint32_t> keys;
  for (const Program& program : spec.programs) {
    for (const Op& op : program.ops) {
      if (TouchesKey(op.kind)) keys.insert(op.key);
    }
  }
  return keys;
}

}  // namespace

std::string KeyName(std::uint32_t key) {
  return Str("k", key);
}

Transaction ToTransaction(const Program& program, std::uint32_t index) {
  Transaction txn;
  txn.gas_budget = program.gas_budget;
  std::set<std::string> reads;
  std::set<std::string> writes;
  for (const Op& op : program.ops) {
    if (!TouchesKey(op.kind) || op.undeclared) continue;
    (op.kind == OpKind::kRead ? reads : writes).insert(KeyName(op.key));
  }
  for (const std::string& key : reads) {
    if (writes.count(key) == 0) txn.read_set.push_back(key);
  }
  txn.write_set.assign(writes.begin(), writes.end());
  txn.body = [ops = program.ops, index](TxnContext& ctx) { return Interpret(ops, index, ctx); };
  return txn;
}

std::vector<Transaction> ToBatch(const BatchSpec& spec) {
  std::vector<Transaction> batch;
  batch.reserve(spec.programs.size());
  for (std::size_t i = 0; i < spec.programs.size(); ++i) {
    batch.push_back(ToTransaction(spec.programs[i], static_cast<std::uint32_t>(i)));
  }
  return batch;
}

MapState BaseState(const BatchSpec& spec) {
  MapState state;
  for (std::uint32_t key : KeysOf(spec)) {
    const std::uint64_t h = Mix(spec.base_seed, key);
    if (h % 100 < spec.base_density_percent) state.Put(KeyName(key), ValueOf(SplitMix(h)));
  }
  return state;
}

ExecuteOptions OptionsFor(const BatchSpec& spec, Scheduler scheduler) {
  ExecuteOptions options;
  options.scheduler = scheduler;
  options.limits = spec.limits;
  return options;
}

namespace {

// One batch, drawn inside rc::gen::exec (each * is a pick RapidCheck shrinks).
BatchSpec DrawBatch(const BatchShape& shape) {
  BatchSpec spec;
  // From total contention (2 keys) to none (100,000 keys for a few thousand
  // accesses).
  spec.key_space = static_cast<std::uint32_t>(*GenBanded(
      {{3, 2, 4}, {3, 5, 32}, {2, 33, 1000}, {2, 1001, 100'000}}, shape.min_keys, shape.max_keys));
  const std::uint32_t hot_percent = *rc::gen::element<std::uint32_t>(0, 0, 30, 90);
  OpMix mix;
  mix.read = *rc::gen::inRange<std::size_t>(0, 11);
  mix.write = *rc::gen::inRange<std::size_t>(0, 11);
  if (mix.read + mix.write == 0) mix.read = 1;
  mix.remove = *rc::gen::inRange<std::size_t>(0, 3);
  mix.abort_if = *rc::gen::inRange<std::size_t>(0, 2);
  mix.charge = *rc::gen::inRange<std::size_t>(0, 3);
  spec.base_seed = *rc::gen::inRange<std::uint64_t>(0, 1'000'000);
  spec.base_density_percent = *rc::gen::element<std::uint32_t>(0, 50, 50, 100);
  spec.limits = *GenLimits(shape.tight_limits_percent);
  std::size_t max_txns = shape.max_txns;
  if (shape.mostly_small) {
    // Most batches up to 8 or 64 transactions; one in 200 up to 10,000.
    max_txns = std::min(max_txns, *rc::gen::weightedElement<std::size_t>(
                                      {{450, 8}, {350, 64}, {195, 600}, {5, 10'000}}));
  }
  const rc::Gen<Program> program = GenProgram(mix, spec.key_space, hot_percent);
  if (!shape.mostly_small && shape.min_txns > 0) {
    // A fixed count shrinks only program by program; the properties use the
    // other branch, which also shrinks by removing programs.
    const std::size_t count = *rc::gen::inRange<std::size_t>(
        shape.min_txns, std::max(shape.min_txns, shape.max_txns) + 1);
    spec.programs = *rc::gen::container<std::vector<Program>>(count, rc::gen::resize(100, program));
    return spec;
  }
  spec.programs =
      *rc::gen::resize(static_cast<int>(max_txns),
                       rc::gen::container<std::vector<Program>>(rc::gen::resize(100, program)));
  return spec;
}

}  // namespace

rc::Gen<BatchSpec> GenBatch(const BatchShape& shape) {
  // Size 100 everywhere: the ranges in DrawBatch are the distributions,
  // whatever size RapidCheck is at.
  return rc::gen::resize(100, rc::gen::exec([shape] { return DrawBatch(shape); }));
}

std::ostream& operator<<(std::ostream& out, const Op& op) {
  switch (op.kind) {
    case OpKind::kRead:
      out << "R" << op.key;
      break;
    case OpKind::kWrite:
      out << "W" << op.key;
      break;
    case OpKind::kDelete:
      out << "D" << op.key;
      break;
    case OpKind::kAbortIf:
      out << "A%" << op.modulus << "=" << op.remainder;
      break;
    case OpKind::kCharge:
      out << "C" << op.gas;
      break;
  }
  if (op.undeclared) out << "!";
  return out;
}

std::ostream& operator<<(std::ostream& out, const Program& program) {
  out << "[";
  for (std::size_t i = 0; i < program.ops.size(); ++i) {
    out << (i == 0 ? "" : " ") << program.ops[i];
  }
  out << "]";
  if (program.gas_budget != 0) out << " gas=" << program.gas_budget;
  return out;
}

std::ostream& operator<<(std::ostream& out, const BatchSpec& spec) {
  const TxnLimits defaults;
  const TxnLimits& limits = spec.limits;
  out << "keys=" << spec.key_space << " base(seed=" << spec.base_seed << ", "
      << spec.base_density_percent << "%)";
  auto field = [&](const char* name, std::uint64_t value, std::uint64_t default_value) {
    if (value != default_value) out << " " << name << "=" << value;
  };
  field("max_batch_size", limits.max_batch_size, defaults.max_batch_size);
  field("max_keys_per_txn", limits.max_keys_per_txn, defaults.max_keys_per_txn);
  field("max_key_size", limits.max_key_size, defaults.max_key_size);
  field("max_value_size", limits.max_value_size, defaults.max_value_size);
  field("default_gas_budget", limits.default_gas_budget, defaults.default_gas_budget);
  field("max_gas_budget", limits.max_gas_budget, defaults.max_gas_budget);
  field("read_gas", limits.read_gas, defaults.read_gas);
  field("write_gas", limits.write_gas, defaults.write_gas);
  out << " txns=" << spec.programs.size();
  for (std::size_t i = 0; i < spec.programs.size(); ++i) {
    out << "\n  t" << i << ": " << spec.programs[i];
  }
  return out;
}

}  // namespace tri::txn::testing
