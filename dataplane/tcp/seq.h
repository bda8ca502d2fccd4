// TCP sequence-number arithmetic, RFC 9293 §3.4: sequence numbers live in a
// 32-bit space that wraps, so "less than" is only meaningful between numbers
// less than 2^31 apart. Every comparison of sequence numbers in the stack goes
// through these helpers; a plain `<` on a Seq is a bug as soon as a connection
// has moved 4 GiB.
#pragma once

#include <cstdint>

namespace lg::tcp {

using Seq = uint32_t;

// a - b as a signed distance. The unsigned subtraction is well-defined modulo
// 2^32 and the conversion to int32_t is modular since C++20, so this is the
// whole of RFC 9293 §3.4's "=<" arithmetic: its sign orders a and b when they
// are within 2^31 of each other (which TCP's window limits guarantee).
constexpr int32_t seq_diff(Seq a, Seq b) { return static_cast<int32_t>(a - b); }

constexpr bool seq_lt(Seq a, Seq b) { return seq_diff(a, b) < 0; }
constexpr bool seq_leq(Seq a, Seq b) { return seq_diff(a, b) <= 0; }
constexpr bool seq_gt(Seq a, Seq b) { return seq_diff(a, b) > 0; }
constexpr bool seq_geq(Seq a, Seq b) { return seq_diff(a, b) >= 0; }

constexpr Seq seq_max(Seq a, Seq b) { return seq_gt(a, b) ? a : b; }
constexpr Seq seq_min(Seq a, Seq b) { return seq_lt(a, b) ? a : b; }

// lo <= x < hi in sequence space (the RFC 9293 §3.4 acceptability tests are
// built from this). Measured as offsets from lo, so it is right for any window
// shorter than 2^32 even when the window itself straddles the wrap; an empty
// window (lo == hi) contains nothing.
constexpr bool seq_in(Seq x, Seq lo, Seq hi) { return x - lo < hi - lo; }

}  // namespace lg::tcp
