#!/usr/bin/env python
"""Benchmark the KAN layers against dense layers and an efficient-kan-style reference, in one run.

For every candidate: fwd+bwd median time (candidates interleaved per repetition, order rotated, so
machine noise hits all of them alike), peak memory of one fwd+bwd (torch CPU memory profiler),
saved-activation bytes (``torch.autograd.graph.saved_tensors_hooks``; unique storages, parameters
excluded) and parameter count. Prints a Markdown table and writes JSON.

    python scripts/bench_kan_layers.py [--threads N] [--reps 7] [--output results/bench_kan_layers.json]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kan_genomics_hf.modeling import kan_autograd, kan_basis  # noqa: E402
from kan_genomics_hf.modeling.kan_layers import KANConv1d, KANLinear  # noqa: E402
from kan_genomics_hf.testing.efficient_kan_reference import ReferenceKANLinear, UnfoldReferenceConv  # noqa: E402


@contextlib.contextmanager
def functional_kernels() -> Iterator[None]:
    """Switch the layers' in-place eager kernels off (forward AND backward run the out-of-place twins
    that torch.compile and double backward use)."""
    saved = kan_basis._inplace_ok
    kan_basis._inplace_ok = kan_autograd._inplace_ok = lambda *tensors: False
    try:
        yield
    finally:
        kan_basis._inplace_ok = kan_autograd._inplace_ok = saved


class FunctionalKernels(nn.Module):
    """Ablation candidate: the wrapped layer run under ``functional_kernels()`` (see ``kernel_context``),
    to measure what the in-place twin earns."""

    kernel_context = staticmethod(functional_kernels)

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: Tensor) -> Tensor:
        return self.layer(x)


def copy_weights(dst: nn.Module, src: nn.Module) -> None:
    """Give our layer the reference's parameters (same names and shapes)."""
    with torch.no_grad():
        for name in ("base_weight", "spline_weight", "spline_scaler"):
            getattr(dst, name).copy_(getattr(src, name))


# ------------------------------------------------------------------------------------------------
# Measurement helpers
# ------------------------------------------------------------------------------------------------
def fwd_bwd(model: Callable[[Tensor], Tensor], x: Tensor) -> None:
    """One forward + backward; gradients cleared in place afterwards."""
    with getattr(model, "kernel_context", contextlib.nullcontext)():
        y = model(x)
        y.sum().backward()
    x.grad = None


def saved_bytes(model: nn.Module, fn: Callable[[Tensor], Tensor], x: Tensor) -> dict[str, int]:
    """Bytes of the unique storages autograd saves for backward (all / without parameters)."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        st = t.untyped_storage()
        seen[st.data_ptr()] = st.nbytes()
        return t

    with getattr(fn, "kernel_context", contextlib.nullcontext)():
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            y = fn(x)
        y.sum().backward()
    x.grad = None
    total = sum(seen.values())
    acts = sum(b for ptr, b in seen.items() if ptr not in params)
    return {"saved_bytes_total": total, "saved_activation_bytes": acts}


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence the profiler's C++ start/stop chatter on file descriptor 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def peak_memory(fn: Callable[[Tensor], None], x: Tensor) -> int:
    """Peak bytes allocated by torch on CPU during one fwd+bwd (profiler allocation events)."""
    from torch.profiler import ProfilerActivity, profile

    with quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn(x)
    events = sorted(
        (ev.start_ns(), ev.nbytes()) for ev in prof.profiler.kineto_results.events() if ev.name() == "[memory]"
    )
    cur = peak = 0
    for _, b in events:
        cur += b
        peak = max(peak, cur)
    return peak


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def bench_group(
    title: str,
    models: dict[str, nn.Module],
    fns: dict[str, Callable[[Tensor], Tensor]],
    make_x: Callable[[], Tensor],
    reps: dict[str, int],
    warmup: int,
) -> list[dict]:
    """Measure one group of candidates on the same input."""
    x = make_x().requires_grad_(True)
    rows = []
    compile_s: dict[str, float] = {}
    for name, fn in fns.items():  # first call (compiles the compiled candidates)
        t0 = time.perf_counter()
        fwd_bwd(fn, x)
        compile_s[name] = time.perf_counter() - t0
    # candidates with few reps (the slow references) are timed in the interleaved loop only while they have reps left
    max_reps = max(reps.values())
    times: dict[str, list[float]] = {n: [] for n in fns}
    cpu: dict[str, list[float]] = {n: [] for n in fns}
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fwd_bwd(fns[n], x)
    for r in range(max_reps):
        order = names[r % len(names):] + names[: r % len(names)]
        for n in order:
            if len(times[n]) >= reps[n]:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            fwd_bwd(fns[n], x)
            times[n].append(time.perf_counter() - t0)
            cpu[n].append(time.process_time() - c0)
    for name, fn in fns.items():
        sb = saved_bytes(models[name], fn, x)
        pk = peak_memory(lambda xx, fn=fn: fwd_bwd(fn, xx), x)
        rows.append(
            {
                "group": title,
                "candidate": name,
                "median_ms": 1e3 * statistics.median(times[name]),
                "min_ms": 1e3 * min(times[name]),
                "cpu_median_ms": 1e3 * statistics.median(cpu[name]),
                "reps": len(times[name]),
                "first_call_s": compile_s[name],
                "peak_mb": pk / 2**20,
                "saved_activation_mb": sb["saved_activation_bytes"] / 2**20,
                "saved_total_mb": sb["saved_bytes_total"] / 2**20,
                "params": n_params(models[name]),
            }
        )
        print(f"  {title}: {name}: {rows[-1]['median_ms']:.1f} ms", flush=True)
    return rows


def max_abs_diff(a: Callable[[Tensor], Tensor], b: Callable[[Tensor], Tensor], x: Tensor) -> float:
    with torch.no_grad():
        return float((a(x) - b(x)).abs().max())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's default)")
    ap.add_argument("--reps", type=int, default=7, help="timed repetitions per fast candidate")
    ap.add_argument("--ref-reps", type=int, default=5, help="timed repetitions of the slow unfold reference")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile candidates")
    ap.add_argument("--small", action="store_true", help="tiny sizes (smoke test), not the issue's sizes")
    ap.add_argument("--output", default="results/bench_kan_layers.json", help="JSON output path")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, {threads} threads, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}")

    if args.small:
        lb, lin, lout = 64, 32, 32
        cb, cc, cl, ck = 4, 8, 32, 5
    else:
        lb, lin, lout = 1024, 256, 256
        cb, cc, cl, ck = 64, 64, 200, 9

    # ---------------- linear ----------------
    ref = ReferenceKANLinear(lin, lout)
    ours = KANLinear(lin, lout)
    copy_weights(ours, ref)
    dense = nn.Linear(lin, lout)
    lin_models: dict[str, nn.Module] = {"nn.Linear": dense, "reference KANLinear (efficient-kan recursion)": ref, "KANLinear eager": ours}
    lin_models["KANLinear eager, functional kernels"] = FunctionalKernels(ours)
    lin_fns: dict[str, Callable[[Tensor], Tensor]] = dict(lin_models)  # modules are callables
    if not args.no_compile:
        lin_models["KANLinear compiled"] = ours
        lin_fns["KANLinear compiled"] = torch.compile(ours, fullgraph=True)
    xl = torch.randn(lb, lin)
    check_lin = max_abs_diff(ours, ref, xl)
    reps = {n: args.reps for n in lin_fns}
    print(f"linear {lb}x{lin}->{lout}: |ours - reference| = {check_lin:.2e}", flush=True)
    rows = bench_group("linear", lin_models, lin_fns, lambda: torch.randn(lb, lin), reps, args.warmup)

    # ---------------- conv ----------------
    pad = ck // 2
    cref = UnfoldReferenceConv(cc, cc, ck, pad)
    cours = KANConv1d(cc, cc, ck, padding=pad)
    copy_weights(cours, cref.kan)
    cdense = nn.Conv1d(cc, cc, ck, padding=pad, bias=False)
    conv_models: dict[str, nn.Module] = {"nn.Conv1d": cdense, "unfold + reference KANLinear": cref, "KANConv1d eager": cours}
    conv_models["KANConv1d eager, functional kernels"] = FunctionalKernels(cours)
    conv_fns: dict[str, Callable[[Tensor], Tensor]] = dict(conv_models)
    if not args.no_compile:
        conv_models["KANConv1d compiled"] = cours
        conv_fns["KANConv1d compiled"] = torch.compile(cours, fullgraph=True)
    xc = torch.randn(cb, cc, cl)
    check_conv = max_abs_diff(cours, cref, xc)
    print(f"conv B={cb} C={cc}->{cc} L={cl} K={ck}: |ours - reference| = {check_conv:.2e}", flush=True)
    creps = {n: args.reps for n in conv_fns}
    creps["unfold + reference KANLinear"] = args.ref_reps
    rows += bench_group("conv1d", conv_models, conv_fns, lambda: torch.randn(cb, cc, cl), creps, args.warmup)

    # ---------------- ratios / targets ----------------
    by = {(r["group"], r["candidate"]): r for r in rows}

    def ratio(g: str, a: str, b: str, key: str) -> float | None:
        if (g, a) in by and (g, b) in by and by[(g, b)][key] > 0:
            return by[(g, a)][key] / by[(g, b)][key]
        return None

    R = "reference KANLinear (efficient-kan recursion)"
    # (name, group, numerator, denominator, metric kind, op, goal); time targets are judged on the wall-clock
    # median and, because a shared CPU time-slices long runs more than short ones, also on CPU time
    specs = [
        ("KANLinear eager time / reference", "linear", "KANLinear eager", R, "time", "<=", 0.6),
        ("KANLinear saved activations / reference", "linear", "KANLinear eager", R, "saved_activation_mb", "<=", 0.1),
        ("unfold reference time / KANConv1d eager", "conv1d", "unfold + reference KANLinear", "KANConv1d eager", "time", ">=", 8.0),
        ("KANConv1d saved activations / nn.Conv1d", "conv1d", "KANConv1d eager", "nn.Conv1d", "saved_activation_mb", "<=", 2.0),
        ("KANLinear in-place kernels time / functional", "linear", "KANLinear eager",
         "KANLinear eager, functional kernels", "time", "<=", 0.8),
        ("KANConv1d in-place kernels time / functional", "conv1d", "KANConv1d eager",
         "KANConv1d eager, functional kernels", "time", "<=", 0.8),
        ("KANLinear compiled time / nn.Linear", "linear", "KANLinear compiled", "nn.Linear", "time", "<=", 12.0),
        ("KANConv1d compiled time / nn.Conv1d", "conv1d", "KANConv1d compiled", "nn.Conv1d", "time", "<=", 10.0),
    ]
    target_rows = []
    for name, g, a, b, kind, op, goal in specs:
        keys = ["median_ms", "cpu_median_ms"] if kind == "time" else [kind]
        vals = [ratio(g, a, b, k) for k in keys]
        mets = [None if v is None else (v <= goal if op == "<=" else v >= goal) for v in vals]
        row = {"target": name, "goal": f"{op} {goal}", "value": vals[0], "met": mets[0]}
        if kind == "time":
            row.update({"value_cpu": vals[1], "met_cpu": mets[1]})
        target_rows.append(row)

    lines = [
        f"torch {torch.__version__}; {threads} threads; linear batch {lb}, {lin}->{lout}; "
        f"conv B={cb}, C={cc}->{cc}, L={cl}, K={ck}; fwd+bwd medians (candidates interleaved); "
        f"CPU ms = process CPU time (all threads)",
        "",
        "| group | candidate | median ms | CPU ms | peak MB | saved act. MB | saved total MB | params | reps |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['group']} | {r['candidate']} | {r['median_ms']:.1f} | {r['cpu_median_ms']:.1f} | {r['peak_mb']:.1f} | "
            f"{r['saved_activation_mb']:.2f} | {r['saved_total_mb']:.2f} | {r['params']:,} | {r['reps']} |"
        )
    lines += ["", "| target | wall-clock ratio | CPU-time ratio | goal | met (wall / CPU) |", "|---|---:|---:|---|---|"]
    for t in target_rows:
        v = "n/a" if t["value"] is None else f"{t['value']:.3f}"
        vc = "" if t.get("value_cpu") is None else f"{t['value_cpu']:.3f}"
        met = f"{t['met']}" + (f" / {t['met_cpu']}" if "met_cpu" in t else "")
        lines.append(f"| {t['target']} | {v} | {vc} | {t['goal']} | {met} |")
    lines += ["", f"max |ours - reference| output: linear {check_lin:.2e}, conv {check_conv:.2e}"]
    table = "\n".join(lines)
    print(table)

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "torch": torch.__version__,
        "threads": threads,
        "cpu_count": os.cpu_count(),
        "sizes": {"linear": [lb, lin, lout], "conv": [cb, cc, cl, ck]},
        "rows": rows,
        "targets": target_rows,
        "max_abs_diff": {"linear": check_lin, "conv": check_conv},
        "markdown": table,
    }
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    os.replace(tmp, out)
    out.with_suffix(".md").write_text(table + "\n")
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
