"""bench/run_benchmarks.py on the smallest COBA-alpha network, condlif only (Brian2 is not a
test dependency): one repetition at 1 and 2 ranks, then the table, the profile, the CSV files
and the JSON it writes are checked against the runs it made, and the core probe (bench_neuron
beside condlif, on every CPU before and after). Also: a missing executable stops it with a
message naming the path, and nothing is written.

    check_bench.py WORKDIR CONDLIF"""
import csv
import json
import math
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "bench", "run_benchmarks.py")
failures = 0


def check(ok, what):
    global failures
    if not ok:
        failures += 1
        print("check failed: %s" % what, file=sys.stderr)


def main():
    work, condlif = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    prefix = os.path.join(work, "out")
    cmd = [sys.executable, SCRIPT, "--skip-brian2", "--sizes", "4000", "--ranks", "1,2",
           "--reps", "1", "--min-sim-seconds", "0", "--condlif", condlif, "--workdir",
           os.path.join(work, "runs"), "--out-prefix", prefix]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, "run_benchmarks exit %d: %s" % (p.returncode, p.stderr[-2000:]))
    if p.returncode != 0:
        return 1
    check("sim s (median [min-max])" in p.stdout, "table printed: %r" % p.stdout)

    with open(prefix + ".csv") as f:
        rows = list(csv.DictReader(f))
    check([(r["tool"], r["ranks"], r["reps"]) for r in rows] ==
          [("condlif", "1", "1"), ("condlif", "2", "1")], "CSV rows: %r" % rows)
    with open(prefix + ".json") as f:
        doc = json.load(f)
    runs = doc["runs"]
    check(len(runs) == 2, "two runs in the JSON")
    for row, run in zip(rows, runs):
        P = run["ranks"]
        # the simulation phase is every timer but build, means over ranks
        sim = sum(run["timers"][t]["mean"] for t in run["timers"] if t != "build")
        check(math.isclose(float(row["sim_s_median"]), sim, rel_tol=1e-9)
              and math.isclose(run["sim_seconds"], sim, rel_tol=1e-9),
              "P=%d: sim time %s is the sum of the phase means %g" % (P, row["sim_s_median"], sim))
        by_rank = run["timers_by_rank"]
        check(set(by_rank) == set(run["timers"]) and all(len(v) == P for v in by_rank.values()),
              "P=%d: per-rank timers %r" % (P, by_rank))
        for t, v in by_rank.items():
            check(math.isclose(min(v), run["timers"][t]["min"], rel_tol=1e-12) and
                  math.isclose(max(v), run["timers"][t]["max"], rel_tol=1e-12),
                  "P=%d: %s per rank %r within min/max %r" % (P, t, v, run["timers"][t]))
        # COBA-alpha 4000: 80 inputs per neuron plus the kick-start's (20 x 4000 x 0.01)
        n_syn = int(row["n_synapses"])
        check(4000 * 80 + 400 <= n_syn <= 4000 * 80 + 1200, "P=%d: %d synapses" % (P, n_syn))
        check(5.0 <= float(row["rate_hz_median"]) <= 30.0, "P=%d: rate %s Hz" %
              (P, row["rate_hz_median"]))
        check(row["speedup_vs_brian2"] == "", "P=%d: no speed-up without Brian2" % P)
    check(rows[0]["speedup_vs_p1"] == "" and
          math.isclose(float(rows[1]["speedup_vs_p1"]),
                       runs[0]["sim_seconds"] / runs[1]["sim_seconds"], rel_tol=1e-9),
          "2 ranks against 1: %r" % [r["speedup_vs_p1"] for r in rows])

    # the profile: the phases of the (only) repetition per simulated second, the exchange's
    # share, and at 2 ranks the ranks' imbalance and the least-waiting rank's exchange
    check("condlif profile" in p.stdout, "profile printed: %r" % p.stdout)
    with open(prefix + "_profile.csv") as f:
        prof = list(csv.DictReader(f))
    check([(r["n"], r["ranks"], r["reps"]) for r in prof] == [("4000", "1", "1"),
                                                                ("4000", "2", "1")],
          "profile rows: %r" % prof)
    check(doc["profile"] and len(doc["profile"]) == 2, "profile in the JSON")
    for row, run in zip(prof, runs):
        P, T = run["ranks"], run["t_stop_ms"] / 1000.0
        for t in ("update", "deliver", "exchange", "write"):
            check(math.isclose(float(row[t + "_s_per_s"]), run["timers"][t]["mean"] / T,
                               rel_tol=1e-9),
                  "P=%d: profile %s %s against the timer %r" % (P, t, row[t + "_s_per_s"],
                                                               run["timers"][t]))
        share = 100.0 * run["timers"]["exchange"]["mean"] / run["sim_seconds"]
        check(math.isclose(float(row["exchange_pct_median"]), share, rel_tol=1e-9),
              "P=%d: exchange share %s, expected %g" % (P, row["exchange_pct_median"], share))
        upd = run["timers_by_rank"]["update"]
        if P == 1:
            check(row["imbalance_pct_median"] == "" and row["n_balanced"] == "0" and
                  row["speedup_vs_p1_balanced"] == "", "P=1: no imbalance: %r" % row)
        else:
            imb = 100.0 * (max(upd) / min(upd) - 1.0)
            check(math.isclose(float(row["imbalance_pct_median"]), imb, rel_tol=1e-9),
                  "P=2: imbalance %s, expected %g" % (row["imbalance_pct_median"], imb))
            check(row["n_balanced"] == ("1" if imb <= 3.0 else "0"),
                  "P=2: balanced count %s at imbalance %g" % (row["n_balanced"], imb))
            balanced = runs[0]["sim_seconds"] / run["sim_seconds"]
            check(row["speedup_vs_p1_balanced"] == "" if imb > 3.0 else
                  math.isclose(float(row["speedup_vs_p1_balanced"]), balanced, rel_tol=1e-9),
                  "P=2: balanced speed-up %s at imbalance %g (%g)"
                  % (row["speedup_vs_p1_balanced"], imb, balanced))
            least = run["timers"]["exchange"]["min"] / T
            check(math.isclose(float(row["least_waiting_exchange_s_per_s_median"]), least,
                               rel_tol=1e-9),
                  "P=2: least-waiting exchange %s, expected %g"
                  % (row["least_waiting_exchange_s_per_s_median"], least))

    # the core probe: bench_neuron beside condlif, every CPU this process may use, both times
    cpus = sorted(os.sched_getaffinity(0))
    probe = doc["core_probe"]
    probe_exe = os.path.join(os.path.dirname(os.path.abspath(condlif)), "bench", "bench_neuron")
    if os.access(probe_exe, os.X_OK):
        check(probe is not None and all(sorted(int(c) for c in probe[w]) == cpus and
                                        all(0.05 < v < 100 for v in probe[w].values())
                                        for w in ("before", "after")),
              "core probe of CPUs %r: %r" % (cpus, probe))
        check("core probe (bench_neuron COBA 4000" in p.stdout, "probe printed: %r" % p.stdout)
    else:
        check(probe is None, "no probe without bench_neuron: %r" % probe)
    sys.path.insert(0, os.path.dirname(SCRIPT))
    import run_benchmarks as rb
    note = rb.probe_note({"before": {0: 1.0, 1: 1.0}, "after": {0: 1.2, 1: 1.0}})
    check(note is not None and "20 %" in note, "a core 20 %% slower is noted: %r" % note)
    check(rb.probe_note({"before": {0: 1.0, 1: 1.04}}) is None, "4 % apart: no note")
    # the balanced speed-up from synthetic repetitions: one rank 2.0 and 2.2 s (median 2.1),
    # two ranks 1.05 s (updates 0.80 and 0.81: balanced), 1.00 s (0.80, 0.80) and 1.20 s (0.80
    # and 0.88, 10 % apart: left out), so 2.1 / median(1.05, 1.00) = 2.1 / 1.025
    def rep(ranks, sim, upd):
        ex = {"mean": 0.01, "min": 0.01, "max": 0.01}
        return {"n": 10, "tool": "condlif", "ranks": ranks, "rep": 0, "sim_seconds": sim,
                "t_stop_ms": 1000.0, "sim_timers": ["update", "exchange"],
                "timers": {"update": {"mean": sum(upd) / len(upd)}, "exchange": ex},
                "timers_by_rank": {"update": upd}}
    synth = [rep(1, 2.0, [1.6]), rep(1, 2.2, [1.7]), rep(2, 1.05, [0.80, 0.81]),
             rep(2, 1.00, [0.80, 0.80]), rep(2, 1.20, [0.80, 0.88])]
    sp = {r["ranks"]: r for r in rb.profile(synth, [10], [1, 2])}
    check(sp[1]["speedup_vs_p1_balanced"] is None and sp[2]["n_balanced"] == 2 and
          math.isclose(sp[2]["speedup_vs_p1_balanced"], 2.1 / 1.025, rel_tol=1e-12),
          "balanced speed-up from synthetic runs: %r" % sp)
    check("vs P=1 (imb. <= 3 %)" in rb.format_profile(list(sp.values())),
          "balanced speed-up column printed")

    check(runs[0]["n_spikes"] == runs[1]["n_spikes"],
          "same spikes at 1 and 2 ranks: %d, %d" % (runs[0]["n_spikes"], runs[1]["n_spikes"]))

    # --min-sim-seconds: repetitions beyond --reps while the first rank count's condlif runs
    # (Brian2's with --skip-condlif) add up to less, at most 5 x --reps
    def args(**kw):
        a = rb.parse_args(["--reps", "2", "--min-sim-seconds", "0.1"])
        vars(a).update(kw)
        return a
    def runs_of(tool, ranks, sims):
        return [{"n": 10, "tool": tool, "ranks": ranks, "sim_seconds": x} for x in sims]
    two = runs_of("condlif", 1, [0.03, 0.03]) + runs_of("condlif", 2, [0.05, 0.05])
    four = two + runs_of("condlif", 1, [0.03, 0.03])
    check(rb.more_reps(args(), [], 10, 0) and rb.more_reps(args(), two[:1], 10, 1),
          "up to --reps whatever the time")
    check(rb.more_reps(args(), two, 10, 2), "0.06 s at one rank < 0.1: another repetition")
    check(not rb.more_reps(args(), four, 10, 4), "0.12 s at one rank: enough")
    check(not rb.more_reps(args(), runs_of("condlif", 1, [0.01] * 10), 10, 10),
          "at most 5 x --reps")
    check(not rb.more_reps(args(ranks=[2]), two, 10, 2) and
          rb.more_reps(args(ranks=[2]), runs_of("condlif", 1, [0.03] * 4) +
                       runs_of("condlif", 2, [0.05, 0.04]), 10, 2),
          "the first rank count's runs count")
    check(not rb.more_reps(args(min_sim_seconds=0.0), two, 10, 2), "0: exactly --reps")
    check(rb.more_reps(args(skip_condlif=True), two + runs_of("brian2", 1, [0.09]), 10, 2) and
          not rb.more_reps(args(skip_condlif=True), runs_of("brian2", 1, [0.06, 0.06]), 10, 2),
          "Brian2's runs with --skip-condlif")
    check(rb.more_reps(args(), runs_of("condlif", 1, [0.03] * 4), 11, 2),
          "only the size's own runs count")
    # and a real one: at N = 4000 a run at one rank lasts well under 0.08 s of simulation
    more = [sys.executable, SCRIPT, "--skip-brian2", "--sizes", "4000", "--ranks", "1",
            "--reps", "1", "--min-sim-seconds", "0.08", "--no-probe", "--condlif", condlif,
            "--workdir", os.path.join(work, "runs3"), "--out-prefix", os.path.join(work, "more")]
    p = subprocess.run(more, capture_output=True, text=True, timeout=600)
    check(p.returncode == 0,
          "--min-sim-seconds run: exit %d: %s" % (p.returncode, p.stderr[-2000:]))
    if p.returncode == 0:
        with open(os.path.join(work, "more.json")) as f:
            sims = [r["sim_seconds"] for r in json.load(f)["runs"]]
        k = len(sims)
        check(1 <= k <= 5 and sum(sims[:-1]) < 0.08 and (sum(sims) >= 0.08 or k == 5),
              "repetitions until 0.08 s of simulation: %r" % sims)
        check(k >= 2 or sims[0] >= 0.08, "a short first run is repeated: %r" % sims)

    bad = [sys.executable, SCRIPT, "--skip-brian2", "--sizes", "4000", "--reps", "1",
           "--condlif", os.path.join(work, "no-such-condlif"), "--workdir",
           os.path.join(work, "runs2"), "--out-prefix", os.path.join(work, "bad")]
    p = subprocess.run(bad, capture_output=True, text=True, timeout=120)
    check(p.returncode != 0 and "no-such-condlif" in p.stderr,
          "a missing executable is named: exit %d, %r" % (p.returncode, p.stderr))
    check(not os.path.exists(os.path.join(work, "bad.csv")), "nothing written on bad input")
    if failures:
        print("check_bench: %d check(s) failed" % failures, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
