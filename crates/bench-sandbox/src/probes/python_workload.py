"""bench-sandbox's pure-Python workloads (embedded in the binary and run as
`python3 -c <this file> SECONDS CHUNK [WORKLOAD ...]`; plain Python 3.6+,
standard library only).

Each workload runs for SECONDS, in chunks of about CHUNK seconds, in this one
interpreter; every chunk records [ops, seconds]. A batch of ops runs once
before the clock starts (warm-up, not counted). One op is fixed per workload:

  call   one Python function call; batches are fib(18) done recursively,
         which makes exactly 8361 calls
  dict   one insert plus one lookup of a str key in a fresh dict
         (batches of 1000 keys)
  str    one record formatted with an f-string of 3 fields, split on ","
         and joined with "|" (batches of 100 records)
  sort   sorting a fresh copy of 1000 fixed pseudo-random ints with
         list.sort (batches of 10 sorts)
  float  one step (dt = 0.01) of the 5-body simulation of the benchmarks
         game / pyperformance's nbody, from the same initial state
         (batches of 50 steps)

Inputs come from a 32-bit linear congruential generator with fixed seeds, so
every run does the same work and nothing depends on the `random` module.

stdout: one JSON object
  {"chunk_s": 0.1,
   "workloads": [{"name": "call", "op": "...", "chunks": [[ops, s], ...]},
                 {"name": "...", "error": "ExceptionName: message"}]}
"""

import json
import sys
import time


def lcg(seed, n):
    """n pseudo-random 32-bit ints (Numerical Recipes' LCG constants)."""
    x = seed
    out = []
    for _ in range(n):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        out.append(x)
    return out


# --- call -------------------------------------------------------------------
FIB_N = 18
FIB_CALLS = 8361  # calls made by fib(18): 2 * F(19) - 1


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def call_batch():
    fib(FIB_N)
    return FIB_CALLS


# --- dict -------------------------------------------------------------------
DICT_KEYS = ["k%08x" % v for v in lcg(1, 1000)]


def dict_batch():
    d = {}
    for i, k in enumerate(DICT_KEYS):
        d[k] = i
    total = 0
    for k in DICT_KEYS:
        total += d[k]
    return len(DICT_KEYS)


# --- str --------------------------------------------------------------------
STR_RECORDS = [("w%d" % (v % 9973), v % 100000, (v >> 12) / 7.0) for v in lcg(2, 100)]


def str_batch():
    for name, count, ratio in STR_RECORDS:
        line = f"{name},{count:05d},{ratio:.3f}"
        "|".join(line.split(","))
    return len(STR_RECORDS)


# --- sort -------------------------------------------------------------------
SORT_DATA = [v % 1000003 for v in lcg(3, 1000)]
SORTS_PER_BATCH = 10


def sort_batch():
    for _ in range(SORTS_PER_BATCH):
        data = list(SORT_DATA)
        data.sort()
    return SORTS_PER_BATCH


# --- float ------------------------------------------------------------------
PI = 3.14159265358979323
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24
BODIES = [
    # sun
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], SOLAR_MASS),
    # jupiter
    (
        [4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01],
        [
            1.66007664274403694e-03 * DAYS_PER_YEAR,
            7.69901118419740425e-03 * DAYS_PER_YEAR,
            -6.90460016972063023e-05 * DAYS_PER_YEAR,
        ],
        9.54791938424326609e-04 * SOLAR_MASS,
    ),
    # saturn
    (
        [8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01],
        [
            -2.76742510726862411e-03 * DAYS_PER_YEAR,
            4.99852801234917238e-03 * DAYS_PER_YEAR,
            2.30417297573763929e-05 * DAYS_PER_YEAR,
        ],
        2.85885980666130812e-04 * SOLAR_MASS,
    ),
    # uranus
    (
        [1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01],
        [
            2.96460137564761618e-03 * DAYS_PER_YEAR,
            2.37847173959480950e-03 * DAYS_PER_YEAR,
            -2.96589568540237556e-05 * DAYS_PER_YEAR,
        ],
        4.36624404335156298e-05 * SOLAR_MASS,
    ),
    # neptune
    (
        [1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01],
        [
            2.68067772490389322e-03 * DAYS_PER_YEAR,
            1.62824170038242295e-03 * DAYS_PER_YEAR,
            -9.51592254519715870e-05 * DAYS_PER_YEAR,
        ],
        5.15138902046611451e-05 * SOLAR_MASS,
    ),
]
NBODY_STEPS = 50


def float_batch(dt=0.01):
    bodies = [(list(r), list(v), m) for r, v, m in BODIES]
    pairs = [(bodies[i], bodies[j]) for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    for _ in range(NBODY_STEPS):
        for ([x1, y1, z1], v1, m1), ([x2, y2, z2], v2, m2) in pairs:
            dx = x1 - x2
            dy = y1 - y2
            dz = z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** (-1.5))
            b1m = m1 * mag
            b2m = m2 * mag
            v1[0] -= dx * b2m
            v1[1] -= dy * b2m
            v1[2] -= dz * b2m
            v2[0] += dx * b1m
            v2[1] += dy * b1m
            v2[2] += dz * b1m
        for r, (vx, vy, vz), _m in bodies:
            r[0] += dt * vx
            r[1] += dt * vy
            r[2] += dt * vz
    return NBODY_STEPS


WORKLOADS = [
    ("call", call_batch, "one Python function call (recursive fib(18) = 8361 calls per batch)"),
    ("dict", dict_batch, "one insert plus one lookup of a str key in a dict"),
    ("str", str_batch, "one record: f-string of 3 fields, str.split, str.join"),
    ("sort", sort_batch, "list.sort of a copy of 1000 fixed pseudo-random ints"),
    ("float", float_batch, "one step of the 5-body (nbody) simulation"),
]


def measure(batch, seconds, chunk):
    batch()  # warm-up, not counted
    clock = time.perf_counter
    chunks = []
    end = clock() + seconds
    while True:
        start = clock()
        ops = 0
        while True:
            ops += batch()
            now = clock()
            if now - start >= chunk:
                break
        chunks.append([ops, now - start])
        if now >= end:
            return chunks


def main():
    seconds = float(sys.argv[1])
    chunk = float(sys.argv[2])
    wanted = sys.argv[3:] or [name for name, _, _ in WORKLOADS]
    results = []
    for name, batch, op in WORKLOADS:
        if name not in wanted:
            continue
        try:
            results.append({"name": name, "op": op, "chunks": measure(batch, seconds, chunk)})
        except Exception as e:  # reported per workload; the others still run
            results.append({"name": name, "error": "%s: %s" % (type(e).__name__, e)})
    sys.stdout.write(json.dumps({"chunk_s": chunk, "workloads": results}) + "\n")


main()
