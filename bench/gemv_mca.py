#!/usr/bin/env python3
"""Static throughput of the register-decoding GEMV loops, deterministic where the shared host
is not: for each kernel, the largest loop of fused_rows<T, m = 1, 4 rows, rounded> as GCC
compiled it is extracted from the object file and run through llvm-mca (Ice Lake server
model, the closest one LLVM 14 has to this host's Emerald Rapids cores).

Usage: bench/gemv_mca.py [OBJECT]   (default: the build-perf object of
quant_gemv_fused_avx512.cpp). Prints cycles per 4 rows x 256 columns and the implied
single-core GB/s at 2.9 GHz (the host's AVX-512 clock); then, from the build-perf object of
quant_gemv_groups_avx512.cpp, the row-group kernels' cycles per block column of four groups. Needs binutils (nm, objdump) and
llvm-mca (apt-get install llvm-14).
"""
import glob
import re
import shutil
import subprocess
import sys

# (template arguments, columns per unit, bytes per unit) as of commit d36b670; older objects
# differ for q4_0 (64 columns, 36 bytes per unit before it).
KERNELS = [
    ("GroupedQ2K, 1, 4, true", 256, 84),
    ("GroupedQ3K, 1, 4, true", 256, 110),
    ("FusedQ2K, 1, 4, true", 256, 84),
    ("FusedQ3K, 1, 4, true", 256, 110),
    ("FusedQ4K, 1, 4, true", 256, 144),
    ("FusedQ5K, 1, 4, true", 256, 176),
    ("FusedQ6K, 1, 4, true", 256, 210),
    ("FusedQ4_0, 1, 4, true", 128, 72),
    ("FusedQ5_0, 1, 4, true", 64, 44),
    ("FusedQ8Legacy<34, 2>, 1, 4, false", 64, 68),
    ("FusedQ4_1Like<20, 4>, 1, 4, true", 256, 160),
    ("FusedQ4_1Like<24, 8>, 1, 4, true", 256, 192),
    ("FusedAfq<2>, 1, 4, true", 256, 80),
    ("FusedAfq<4>, 1, 4, true", 256, 144),
    ("FusedAfq<8>, 1, 4, false", 256, 272),
    ("FusedHqq<4>, 1, 4, true", 256, 160),
    ("FusedHqq<8>, 1, 4, false", 256, 288),
    ("FusedMxfp4, 1, 4, true", 64, 34),
    ("FusedF8Q8, 1, 4, false", 64, 66),
]
NS = "insitu::kernels::avx512::(anonymous namespace)::"
# Row-group kernels (quant_gemv_groups_avx512.cpp), four groups per call as a thread's chunk
# runs them: (block function and template arguments, bytes per group and block column).
GROUP_KERNELS = [
    ("q2k_block<1, 4>", 16 * 84),
    ("q3k_block<1, 4>", 16 * 110),
    ("q4k_block<1, 4, false>", 16 * 144),
    ("q4k_block<1, 4, true>", 16 * 176),
    ("q4_0_block<1, 4>", 16 * 18),
]


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def loop_asm(obj, demangled):
    """AT&T text of the function's main loop (see below), or None."""
    names = run("nm", "-C", obj).splitlines()
    hit = [l for l in names if demangled in l and l.split()[1] in "tT"]
    if not hit:
        return None
    start = int(hit[0].split()[0], 16)
    addrs = sorted({int(l.split()[0], 16) for l in run("nm", obj).splitlines()
                    if len(l.split()) == 3 and l.split()[1] in "tT"})
    end = next(a for a in addrs if a > start)
    ins = []
    for l in run("objdump", "-d", "--no-show-raw-insn", f"--start-address={start}",
                 f"--stop-address={end}", obj).splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(.*)", l)
        if m:
            ins.append((int(m.group(1), 16), m.group(2).split("#")[0].strip()))
    loops = []
    for a, t in ins:
        m = re.match(r"j\w+\s+([0-9a-f]+)", t)
        if m and int(m.group(1), 16) < a:
            loops.append((int(m.group(1), 16), a))
    # The smallest loop holding the most vpdpbusd/FMAs: the unit (or block-column) loop. The
    # longest backward jump can be an outer row-block loop (reductions and all) once GCC inlines
    # the kernel into it, and the innermost can be a small setup loop.
    def work(l):
        return sum(1 for a, t in ins
                   if l[0] <= a < l[1] and t.startswith(("vpdpbusd", "vfmadd")))
    if not loops:
        return None
    most = max(work(l) for l in loops)
    best = min((l for l in loops if work(l) == most), key=lambda l: l[1] - l[0])
    return "\n".join(t.replace("<", "# <") for a, t in ins
                     if best[0] <= a < best[1] and not t.startswith("j")) + "\n"


def main():
    objs = sys.argv[1:] or glob.glob(
        "build-perf/**/quant_gemv_fused_avx512.cpp.o", recursive=True)
    if not objs:
        sys.exit("no object file: build build-perf first or pass one")
    mca = shutil.which("llvm-mca") or shutil.which("llvm-mca-14")
    if not mca:
        sys.exit("llvm-mca not found (apt-get install llvm-14)")
    def cycles_of(obj, demangled):
        """llvm-mca cycles per iteration of the function's main loop, or None."""
        asm = loop_asm(obj, demangled)
        if asm is None:
            return None
        out = subprocess.run([mca, "-mcpu=icelake-server", "-iterations=100"], input=asm,
                             capture_output=True, text=True).stdout
        return float(re.search(r"Total Cycles:\s+(\d+)", out).group(1)) / 100

    print(f"{'kernel':40s} {'cycles/4x256':>12s} {'GB/s@2.9GHz':>12s}")
    for args, cols, nbytes in KERNELS:
        cycles = cycles_of(objs[0], f"fused_rows<{NS}{args}>")
        if cycles is None:
            print(f"{args:40s} {'-':>12s}")
        else:
            print(f"{args:40s} {cycles * 256 / cols:12.1f} {4 * nbytes / cycles * 2.9:12.1f}")
    gobjs = glob.glob("build-perf/**/quant_gemv_groups_avx512.cpp.o", recursive=True)
    if not gobjs:
        return
    print(f"\n{'row-group kernel (4 groups)':40s} {'cycles/column':>12s} {'GB/s@2.9GHz':>12s}")
    for block, column in GROUP_KERNELS:
        cycles = cycles_of(gobjs[0], f"group_sweep<4, {column}ul, &(void {NS}{block}")
        if cycles is None:
            print(f"{block:40s} {'-':>12s}")
        else:
            print(f"{block:40s} {cycles:12.1f} {4 * column / cycles * 2.9:12.1f}")


if __name__ == "__main__":
    main()
