"""What `footnote bench` prints: the summary of every section measured, and the targets of
the performance issue, each with the figure measured and whether it is met."""

from __future__ import annotations

from typing import Any

from bot.bench.burst import format_burst
from bot.bench.costs import format_costs
from bot.bench.e2e import format_e2e
from bot.bench.inline import format_inline
from bot.bench.latency import format_latency
from bot.bench.scale import format_scale
from bot.bench.startup import format_startup
from bot.bench.stats import format_machine, ratio, table
from bot.bench.web import format_web


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured figure and whether it is met."""
    targets: list[dict[str, Any]] = []

    def add(name: str, goal: str, value: float, met: bool) -> None:
        targets.append({"target": name, "goal": goal, "value": value, "met": bool(met)})

    # Against a fake embedder the floor costs microseconds: ratios to it mean nothing.
    fake = str(results.get("config", {}).get("model", "")).startswith("fake:")
    latency = None if fake else results.get("latency")
    if latency:
        for variant in ("answer_engine", "answer_retriever"):
            value = latency["ratios_to_floor"][variant]["p50"]
            add(f"{variant} p50 / floor p50", "<= 1.1", value, value <= 1.1)
    burst = None if fake else results.get("burst")
    if burst:
        value = burst["speedup_vs_one_by_one"]["batched"]
        add(f"throughput, {burst['size']} at once, batched / one by one", ">= 2", value, value >= 2)
    e2e = results.get("e2e")
    if e2e and latency:
        floor = latency["variants"]["floor"]["p50_ms"]
        for run in e2e.get("bursts", []):
            if run["engine"] == "batched" and run["chats"] == 20:
                value = ratio(run["latency"]["p95_ms"], floor)
                add("e2e p95, 20 chats at once / floor p50", "<= 3", value, value <= 3)
    web = results.get("web")
    if web:
        value = web["get_passage_page"]["p95_ms"]
        add(f"GET /p/<id> p95, {web['words']}-word essay (ms)", "<= 50", value, value <= 50)
        if not fake:
            value = web["ratio"]["p50"]
            add("/api/ask p50 / CLI answer path p50", "<= 1.2", value, value <= 1.2)
    startup = results.get("startup")
    if startup:
        for name in ("footnote --help", "footnote sections", "footnote cite"):
            value = startup["commands"][name]["p50_ms"]
            add(f"{name} median (ms)", "well under 1000", value, value < 500)
        for name, heavy in startup["heavy_imports"].items():
            add(f"{name} imports no torch/sentence_transformers", "none", len(heavy), not heavy)
    scale = results.get("scale")
    if scale:
        for entry in scale.get("search", []):
            if entry["size"] >= 1_000_000 and entry.get("chosen"):
                chosen = entry["chosen"]
                add("1M search p95 (ms)", "<= 20", chosen["p95_ms"], chosen["p95_ms"] <= 20)
                add(
                    "1M recall@10",
                    ">= 0.95",
                    chosen["recall_at_10"],
                    chosen["recall_at_10"] >= 0.95,
                )
                gib = entry["peak_rss_gib"]
                add("1M peak RSS, vectors + index (GiB)", "<= 4", gib, gib <= 4)
    pydocs = results.get("pydocs")
    if pydocs:
        add(
            f"Python docs: pages = read + skipped and named ({pydocs['pages']} pages)",
            "all",
            pydocs["documents_read"] + pydocs["skipped_named"],
            pydocs["accounted"],
        )
        first = pydocs["first"]
        passages = f"{pydocs['passages']} passages"
        value = round(first["open_seconds"] + first["first_answer_seconds"], 3)
        add(f"Python docs, {passages}: open + first answer (s)", "<= 1", value, value <= 1)
        value = first["peak_rss_mb"]
        add(f"Python docs, {passages}: peak RSS (MB)", "<= 400", value, value <= 400)
        for name, heavy in pydocs["heavy_imports"].items():
            add(f"Python docs: {name} imports no torch", "none", len(heavy), not heavy)
    return targets


def format_summary(results: dict[str, Any]) -> str:
    out: list[str] = [format_machine(results["machine"])]
    config = results["config"]
    out.append(f"Model {config['model']}, {config['passages']} passages.")
    latency = results.get("latency")
    if latency:
        out.append(format_latency(latency))
    if results.get("burst"):
        out.append(format_burst(results["burst"]))
    if results.get("inline"):
        out.append(format_inline(results["inline"]))
    if results.get("startup"):
        out.append(format_startup(results["startup"]))
    if results.get("e2e"):
        floor = latency["variants"]["floor"]["p50_ms"] if latency else None
        out.append(format_e2e(results["e2e"], floor))
    if results.get("scale"):
        out.append(format_scale(results["scale"]))
    if results.get("incremental"):
        from bot.bench.incremental import format_incremental

        out.append(format_incremental(results["incremental"]))
    if results.get("costs"):
        out.append(format_costs(results["costs"]))
    if results.get("web"):
        out.append(format_web(results["web"]))
    if results.get("pydocs"):
        from bot.bench.pydocs import format_pydocs

        out.append(format_pydocs(results["pydocs"]))
    targets = results.get("targets")
    if targets is not None:
        out.append("\nTargets:")
        if not targets:
            out.append("(latency targets are not judged against a fake embedder)")
        else:
            out.append(
                table(
                    [
                        [t["target"], t["goal"], t["value"], "met" if t["met"] else "MISSED"]
                        for t in targets
                    ],
                    ["", "goal", "measured", ""],
                )
            )
    return "\n".join(out)
