"""Puts bench/count_crossings.js in front of a bundled Worker (scripts/workerd-serve's COUNT_CROSSINGS=N).

Usage: count_crossings.py BUNDLE_JS COUNTER_JS N [TRACE] (TRACE: import names, comma-separated, whose wasm callers
are sampled). wasm-bindgen's glue instantiates the module at start and again after
a panic; both instantiations go through the counter, which wraps every import and export.
"""

import re
import sys


def main():
    path, counter, every = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3])
    source = open(path).read()
    patched, found = re.subn(r"new WebAssembly\.Instance\(", "__crossings.instance(", source)
    if found == 0:
        sys.exit("count-crossings: no `new WebAssembly.Instance(` in the bundle")
    lines = patched.split("\n")
    # After the module's own imports: an ES module's imports come first.
    imports = [i for i, line in enumerate(lines) if line.startswith("import ")]
    at = imports[-1] + 1 if imports else 0
    trace = sys.argv[4] if len(sys.argv) > 4 else ""
    lines[at:at] = [f"globalThis.__COUNT_CROSSINGS_EVERY = {every};",
                    f"globalThis.__COUNT_CROSSINGS_TRACE = {trace!r};", counter]
    open(path, "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
