"""Sorts a `perf report --sort dso,sym --stdio` of workerd into kinds of work (scripts/profile-load, PROFILER=perf).

Reads the report on standard input; prints each kind's share of the samples, then the heaviest symbols. Our Rust
code is the JIT's wasm frames named after Rust paths (the build keeps its names when built with
CARGO_PROFILE_RELEASE_STRIP=false; stripped, they read `wasm-function[N]` and count as wasm all the same).
"""

import re
import sys
from collections import Counter

# First match wins, so the specific kinds come before the general ones.
KINDS = [
    ("kernel (network, scheduling)", r"\[kernel"),
    ("our wasm (Rust)", r"\[JIT\].*JS:(<|[a-z_][a-z0-9_]*::|core|alloc|std|dlmalloc|mem(cpy|set|cmp|move)|wasm-function)"),
    ("JavaScript (the glue, entry.mjs)", r"\[JIT\]"),
    ("garbage collection and handles", r"Scaveng|Heap::|MarkCompact|Sweep|Marking|GlobalHandles|TracedReference|"
     r"HeapTracer|Evacuat|IsUnscavenged|detachWrapper|Wrappable"),
    ("allocation (tcmalloc)", r"tcmalloc|TCMalloc"),
    ("SQLite", r"sqlite|wal[A-Z]|pager|btree|Vdbe"),
    ("runtime promises and I/O (kj, capnp)", r"kj::|capnp::"),
    ("wasm builtins (calls across the boundary)", r"Wasm|wasm::"),
    ("JavaScript builtins", r"Builtins_"),
    ("V8 runtime", r"v8::"),
    ("runtime API (workerd::)", r"workerd::"),
    ("libc", r"libc"),
]


def main():
    kinds = Counter()
    symbols = []
    for line in sys.stdin:
        match = re.match(r"\s*([\d.]+)%\s+(.*)", line)
        if not match:
            continue
        share, rest = float(match.group(1)), match.group(2).strip()
        symbols.append((share, rest))
        kind = next((name for name, pattern in KINDS if re.search(pattern, rest)), "other (workerd)")
        kinds[kind] += share
    print("share of workerd's CPU samples by kind:")
    for kind, share in kinds.most_common():
        print(f"  {share:5.1f} %  {kind}")
    # V8 names a JIT frame after its tier: wasm runs first as Liftoff's baseline code and is optimised (TurboFan)
    # only once a function has used up its tiering budget, so a short run of a large module runs much of it unoptimised.
    tiers = Counter()
    for share, rest in symbols:
        if re.search(KINDS[1][1], rest):
            tier = re.search(r"-(liftoff|turbofan)\b", rest)
            tiers[tier.group(1) if tier else "unnamed tier"] += share
    if tiers:
        print("our wasm by tier: " + ", ".join(f"{name} {share:.1f} %" for name, share in tiers.most_common()))
    print("heaviest symbols:")
    for share, rest in symbols[:25]:
        print(f"  {share:5.2f} %  {rest[:160]}")


if __name__ == "__main__":
    main()
