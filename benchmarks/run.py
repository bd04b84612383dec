"""Time kamctl against its floor and its peers, in one run on the same generated files (issue 7).

    python benchmarks/run.py                       # N = 100, 1,000 and 10,000
    python benchmarks/run.py --sizes 1000 --repeat 7
    python benchmarks/run.py --all-peers           # also ruamel / check-jsonschema at 10,000 (minutes)
    python benchmarks/run.py --findings --sizes 1000   # every check format, clean vs many findings (issue 18)

For each N it generates N accounts (benchmarks/generate.py, seeded) under benchmarks/.data/ (git-ignored)
and times, as separate processes, wall clock, median of --repeat runs:
  check cold      `kamctl check` with .kamctl-cache/ emptied first (parses, validates, checks, fills both caches)
  check no-cache  `kamctl --no-cache check`
  check warm      `kamctl check` with the cache filled and no file changed (served by .kamctl-cache/check.pack
                  and, per format, view-FORMAT.pack)
  check serial    `--no-cache` with KAMCTL_WORKERS=1 (shows what the process pool is worth)
  validate cold/warm  the same for `kamctl validate` (reading only, no check rules)
  floor           one Python process: PyYAML CSafeLoader load + Account.model_validate of every file
  ruamel rt       one Python process: ruamel.yaml round-trip YAML().load of every file
  check-jsonschema  against schemas/account.schema.json (installed in benchmarks/.data/cj-venv)
plus `kamctl check` and `kamctl validate` on an empty workspace and `kamctl --version` against `python -c "import typer"`.
It prints the medians, the max RSS of the cold check, and the issue's target ratios.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import generate  # noqa: E402

BIN = Path(sys.executable).parent
KAMCTL = str(BIN / "kamctl")
PY = sys.executable

FLOOR = """
import sys, glob, yaml
from kamctl.model.account import Account
for f in sorted(glob.glob(sys.argv[1] + '/accounts/*.yaml')):
    with open(f, 'rb') as fh:
        Account.model_validate(yaml.load(fh.read(), Loader=yaml.CSafeLoader))
"""
RUAMEL = """
import sys, glob
from ruamel.yaml import YAML
yaml = YAML(typ='rt')
for f in sorted(glob.glob(sys.argv[1] + '/accounts/*.yaml')):
    with open(f, 'rb') as fh:
        yaml.load(fh.read())
"""


def run_once(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """Wall seconds, max RSS (MB) and exit code of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def measure(cmd: list[str], repeat: int, prepare=None, env: dict | None = None) -> dict:
    times, rss, codes = [], [], set()
    for _ in range(repeat):
        if prepare:
            prepare()
        t, m, code = run_once(cmd, env)
        times.append(t)
        rss.append(m)
        codes.add(code)
    return {"median": statistics.median(times), "runs": len(times), "rss": max(rss), "codes": sorted(codes)}


def workspace(data: Path, n: int, seed: int, many: bool = False) -> Path:
    ws = data / (f"ws-many-{n}" if many else f"ws-{n}")
    marker = ws / ".generated"
    stamp = f"{n} {seed} {(HERE / 'generate.py').stat().st_mtime_ns}"
    if not (marker.is_file() and marker.read_text() == stamp):
        generate.generate(n, ws, seed, many)
        marker.write_text(stamp)
    return ws


def jsonschema_bin(data: Path) -> str | None:
    venv = data / "cj-venv"
    exe = venv / "bin" / "check-jsonschema"
    if exe.is_file():
        return str(exe)
    try:
        subprocess.run([PY, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "check-jsonschema"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"note: check-jsonschema could not be installed ({exc}); its line is skipped", file=sys.stderr)
        return None
    return str(exe) if exe.is_file() else None


def command_name() -> str:
    ok = subprocess.run([KAMCTL, "check", "--help"], capture_output=True).returncode == 0
    return "check" if ok else "validate"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()}; "
            f"load average {load[0]:.2f}")


FORMATS = ("json", "text", "parsable", "github", "junit")
AS_OF = "2027-06-30"  # the date generate.with_findings aims at: about 20 findings per account


def findings_run(args, sizes: list[int]) -> None:
    """Every format of `kamctl check --as-of AS_OF`, clean accounts next to many findings (issue 18):
    cold (cache emptied), warm (cache filled), an empty workspace and the floor; the two target ratios
    for json and text."""
    compileall.compile_dir(str(ROOT / "kamctl"), quiet=1)  # as installed: no byte-compiling in the timings
    empty = args.data / "ws-empty"
    (empty / "accounts").mkdir(parents=True, exist_ok=True)
    (empty / "kam.yaml").write_text(generate.SETTINGS)
    print(f"kamctl check per format, {time.strftime('%Y-%m-%d %H:%M %Z')}; {machine()}; --as-of {AS_OF}")
    base_empty = {fmt: measure([KAMCTL, "-w", str(empty), "check", "--as-of", AS_OF, "--format", fmt],
                               max(args.repeat, 5))["median"] for fmt in ("json", "text")}
    print(f"empty workspace: json {base_empty['json']:.3f} s, text {base_empty['text']:.3f} s")
    for n in sizes:
        for many in (False, True):
            ws = workspace(args.data, n, args.seed, many)
            cache = ws / ".kamctl-cache"
            cmd = [KAMCTL, "-w", str(ws), "check", "--as-of", AS_OF]
            found = subprocess.run(cmd + ["--format", "parsable"], capture_output=True, text=True).stdout.count("\n")
            floor = measure([PY, "-c", FLOOR, str(ws)], args.repeat)["median"]
            print(f"\nN = {n:,} {'many findings' if many else 'clean'} accounts: {found:,} findings "
                  f"({found / n:.1f} each); floor {floor:.3f} s")
            for fmt in FORMATS:
                if fmt in base_empty:  # the ratios: floor, empty, cold and warm run in turn, round by round
                    print(ratios(fmt, cmd, cache, ws, empty, args.repeat))
                    view = cache / f"view-{fmt}.pack"  # warm check results, this format's parts made afresh
                    part = measure(cmd + ["--format", fmt], args.repeat, lambda: view.unlink(missing_ok=True))
                    print(f"  {fmt:9} warm without view-{fmt}.pack {part['median']:6.3f} s   (median of {part['runs']})")
                    continue
                cold = measure(cmd + ["--format", fmt], args.repeat, lambda: shutil.rmtree(cache, ignore_errors=True))
                run_once(cmd + ["--format", fmt])
                warm = measure(cmd + ["--format", fmt], args.repeat)
                print(f"  {fmt:9} cold {cold['median']:6.3f} s  warm {warm['median']:6.3f} s   (median of {cold['runs']})")


def ratios(fmt: str, cmd: list[str], cache: Path, ws: Path, empty: Path, repeat: int) -> str:
    """The two target ratios of one format. A shared machine's speed drifts over minutes, so each
    round runs the floor, an empty workspace, a cold check (cache emptied) and a warm one (the cache
    that cold run wrote) one after the other, and each ratio is the median of the rounds' ratios."""
    rounds = []
    for _ in range(repeat):
        floor = run_once([PY, "-c", FLOOR, str(ws)])[0]
        e = run_once([KAMCTL, "-w", str(empty), "check", "--as-of", AS_OF, "--format", fmt])[0]
        shutil.rmtree(cache, ignore_errors=True)
        c = run_once(cmd + ["--format", fmt])[0]
        w = run_once(cmd + ["--format", fmt])[0]
        rounds.append((floor, e, c, w))
    f, e, c, w = (statistics.median(r[i] for r in rounds) for i in range(4))
    cold_floor = statistics.median(r[2] / r[0] for r in rounds)
    share = statistics.median((r[3] - r[1]) / (r[2] - r[1]) for r in rounds if r[2] > r[1])
    return (f"  {fmt:9} cold {c:6.3f} s  warm {w:6.3f} s  empty {e:5.3f} s  floor {f:6.3f} s   cold/floor "
            f"{cold_floor:4.2f} (target <= 1.2)   (warm-empty)/(cold-empty) {share:4.2f} (target <= 0.1)"
            f"   (medians of {repeat} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description="kamctl benchmarks (issue 7)")
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated account counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (10,000 files: at most 3)")
    parser.add_argument("--data", type=Path, default=HERE / ".data", help="where workspaces are generated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--all-peers", action="store_true",
                        help="also time ruamel and check-jsonschema above 1,000 files (slow)")
    parser.add_argument("--no-jsonschema", action="store_true", help="skip check-jsonschema")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--findings", action="store_true",
                        help="only time every check format on clean and many-findings accounts (issue 18)")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    args.data.mkdir(parents=True, exist_ok=True)
    if args.findings:
        findings_run(args, sizes)
        return
    cmd_name = command_name()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    print(f"kamctl benchmarks, {started}; {machine()}")
    print(f"command timed: kamctl {cmd_name}" + ("" if cmd_name == "check" else " (check is not available)"))
    results: dict = {"date": started, "machine": machine(), "command": cmd_name, "sizes": {}}

    empty = args.data / "ws-empty"
    (empty / "accounts").mkdir(parents=True, exist_ok=True)
    (empty / "kam.yaml").write_text(generate.SETTINGS)
    results["empty"] = measure([KAMCTL, "-w", str(empty), "--no-cache", cmd_name], max(args.repeat, 7))
    results["empty validate"] = measure([KAMCTL, "-w", str(empty), "--no-cache", "validate"], max(args.repeat, 7))
    results["version"] = measure([KAMCTL, "--version"], 15)
    results["import_typer"] = measure([PY, "-c", "import typer"], 15)
    cj = None if args.no_jsonschema else jsonschema_bin(args.data)
    schema = str(ROOT / "schemas" / "account.schema.json")

    for n in sizes:
        ws = workspace(args.data, n, args.seed)
        cache = ws / ".kamctl-cache"
        repeat = min(args.repeat, 3) if n >= 10_000 else args.repeat
        files = sorted(str(p) for p in (ws / "accounts").glob("*.yaml"))

        def empty_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        base = [KAMCTL, "-w", str(ws)]
        r: dict = {}
        r["check cold"] = measure(base + [cmd_name], repeat, empty_cache)
        r["check no-cache"] = measure(base + ["--no-cache", cmd_name], repeat)
        run_once(base + [cmd_name])  # fill the cache
        r["check warm"] = measure(base + [cmd_name], repeat)
        serial_env = {**os.environ, "KAMCTL_WORKERS": "1"}
        r["check serial"] = measure(base + ["--no-cache", cmd_name], repeat, env=serial_env)
        if cmd_name != "validate":
            r["validate cold"] = measure(base + ["validate"], repeat, empty_cache)
            run_once(base + ["validate"])
            r["validate warm"] = measure(base + ["validate"], repeat)
        r["floor"] = measure([PY, "-c", FLOOR, str(ws)], repeat)
        peers_here = n <= 1000 or args.all_peers
        if peers_here:
            r["ruamel rt"] = measure([PY, "-c", RUAMEL, str(ws)], 1 if n >= 1000 else min(repeat, 3))
            if cj:
                r["check-jsonschema"] = measure([cj, "--schemafile", schema, *files], 1 if n >= 1000 else min(repeat, 3))
        results["sizes"][n] = r
        print(f"\nN = {n:,} accounts ({sum(Path(f).stat().st_size for f in files) / n / 1024:.1f} KB each)")
        for name, m in r.items():
            print(f"  {name:18} {m['median']:8.3f} s   (median of {m['runs']}, max RSS {m['rss']:.0f} MB, exit {m['codes']})")
        if not peers_here:
            print("  ruamel rt / check-jsonschema: skipped above 1,000 files (--all-peers times them)")
        elif not cj:
            print("  check-jsonschema: skipped (could not be installed)")

    e = results["empty"]["median"]
    empties = {cmd_name: e, "validate": results["empty validate"]["median"]}
    print(f"\nempty workspace {cmd_name}: {e:.3f} s, validate: {empties['validate']:.3f} s;  kamctl --version {results['version']['median'] * 1000:.0f} ms, "
          f"python -c 'import typer' {results['import_typer']['median'] * 1000:.0f} ms")
    print("\ntargets (issue 7):")

    def line(label: str, value: float | None, target: str, ok: bool | None) -> None:
        shown = "n/a" if value is None else f"{value:.2f}"
        verdict = "" if ok is None else ("  met" if ok else "  NOT met")
        print(f"  {label:58} {shown:>7}  (target {target}){verdict}")

    for n, r in results["sizes"].items():
        ratio = r["check cold"]["median"] / r["floor"]["median"]
        line(f"check cold / floor, N={n:,}", ratio, "<= 1.2", ratio <= 1.2)
        ratio = r["check no-cache"]["median"] / r["floor"]["median"]
        line(f"check --no-cache / floor (no cache writes), N={n:,}", ratio, "<= 1.2", ratio <= 1.2)
        ratio = r["check cold"]["median"] / r["check no-cache"]["median"]
        line(f"check cold / check --no-cache (cost of filling the caches), N={n:,}", ratio, "(for reference)", None)
        if n >= 10_000:
            rss = r["check cold"]["rss"]
            line(f"check cold max RSS MB, N={n:,}", rss, "< 500", rss < 500)
        for cmd in ("check", "validate"):
            if f"{cmd} warm" in r:
                cold, warm = r[f"{cmd} cold"]["median"], r[f"{cmd} warm"]["median"]
                base = empties.get(cmd, e)
                w = (warm - base) / (cold - base) if cold > base else None
                line(f"({cmd} warm - empty) / ({cmd} cold - empty), N={n:,}", w, "<= 0.1",
                     None if w is None else w <= 0.1)
        if "check-jsonschema" in r:
            x = r["check-jsonschema"]["median"] / r["check cold"]["median"]
            line(f"check-jsonschema / check cold, N={n:,}", x, ">= 10", x >= 10)
            x = r["check-jsonschema"]["median"] / r["check no-cache"]["median"]
            line(f"check-jsonschema / check --no-cache, N={n:,}", x, ">= 10", x >= 10)
        if "ruamel rt" in r:
            x = r["ruamel rt"]["median"] / r["check cold"]["median"]
            line(f"ruamel round-trip load / check cold, N={n:,}", x, "(for reference)", None)
    v = results["version"]["median"] / results["import_typer"]["median"]
    line("kamctl --version / python -c 'import typer'", v, "<= 1.3", v <= 1.3)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
