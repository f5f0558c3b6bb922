"""The ``mailsift`` command: generate, run, demo, audience."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from orchestration.settings import REPO_ROOT, Settings, load_settings

DEMO_SUBSCRIBERS = 20_000
DEMO_SEED = 42


def _say(msg: str) -> None:
    print(msg, flush=True)


def _prepare_output_dir(out: Path) -> None:
    """Refuse to mix a generated world into a folder of real exports; replace an earlier generated one."""
    if not out.exists() or not any(out.iterdir()):
        return
    if not (out / "truth" / "meta.json").exists():
        raise SystemExit(
            f"{out} is not empty and was not written by `mailsift generate`; refusing to mix synthetic "
            "data into it. Choose another --out folder."
        )
    for child in out.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def cmd_generate(args: argparse.Namespace) -> int:
    from ml.synthetic import generate

    out = Path(args.out).resolve() if args.out else load_settings().landing_dir
    _prepare_output_dir(out)
    _say(f"Generating {args.subscribers:,} subscribers (seed {args.seed}, {args.format}) into {out}")
    from orchestration.progress import elapsed_tag

    t0 = time.perf_counter()
    summary = generate(args.subscribers, args.seed, out, fmt=args.format,
                       progress=lambda m: _say(f"{elapsed_tag(time.perf_counter() - t0)} {m}"))
    rows = summary.get("rows", summary)
    _say(f"Done in {time.perf_counter() - t0:.1f} s: " + ", ".join(
        f"{k} {v:,}" for k, v in rows.items() if isinstance(v, int)))
    return 0


def _dagster_home(settings: Settings) -> None:
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")


def run_everything(settings: Settings, instance=None, job_name: str = "mailsift_everything",
                   full_refresh: bool = False):
    """Materialise every asset once (or the assets of ``job_name``), in-process; returns the Dagster result.

    ``full_refresh`` rebuilds the incremental dbt models from every raw row."""
    from orchestration.project import ensure_manifest

    ensure_manifest()
    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    if instance is None:
        import dagster as dg

        instance = dg.DagsterInstance.get()
    # Loggers are only started when the run config names them: ask for the compact progress logger.
    run_config: dict = {"loggers": {"console": {}}}
    if full_refresh:
        run_config["ops"] = {"mailsift_dbt_models": {"config": {"full_refresh": True}}}
    return job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)


JOBS = {"run": "mailsift_everything", "refresh": "mailsift_refresh"}


def run_log_path(settings: Settings) -> Path:
    """Where `mailsift run` writes what is not progress (dbt's per-model lines, MLflow notices, warnings)."""
    from datetime import datetime, timezone

    return settings.data_dir / "logs" / f"run-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.log"


def cmd_run(args: argparse.Namespace) -> int:
    from orchestration.progress import quiet_terminal
    from orchestration.summary import summarise

    command = getattr(args, "command", "run") if getattr(args, "command", None) in JOBS else "run"

    settings = load_settings()
    if not settings.landing_dir.exists():
        _say(f"error: landing folder {settings.landing_dir} does not exist "
             "(set MAILSIFT_LANDING_DIR, or run `mailsift generate` / `mailsift demo`).")
        return 2
    _dagster_home(settings)
    pad = " " * len(f"mailsift {command}: ")
    _say(f"mailsift {command}: landing {settings.landing_dir}\n{pad}warehouse {settings.warehouse}\n"
         f"{pad}as of {settings.as_of or 'latest event in the data'}")
    log_path = run_log_path(settings)
    _say(f"{pad}details (dbt output, warnings) in {log_path}")
    t0 = time.perf_counter()
    with quiet_terminal(log_path):
        result = run_everything(settings, job_name=JOBS[command], full_refresh=getattr(args, "full_refresh", False))
    failed_checks = [
        e for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity.value == "ERROR"
    ]
    _say("")
    _say(summarise(settings.warehouse))
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        _say(f"\nmailsift {command} FAILED after {time.perf_counter() - t0:.1f} s in: {', '.join(failed) or 'the run'}."
             f" The messages above say why (details in {log_path}); the serving tables and warehouse keep their"
             " last good state.")
        return 1
    if failed_checks:
        _say(f"\nmailsift {command} finished, but these checks FAILED: " + ", ".join(
            f"{e.asset_key.to_user_string()}:{e.check_name}" for e in failed_checks))
        return 1
    _say(f"\nmailsift {command} finished in {time.perf_counter() - t0:.1f} s.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    args.out, args.format = str(settings.landing_dir), "parquet"
    rc = cmd_generate(args)
    return rc or cmd_run(args)


def cmd_report(args: argparse.Namespace) -> int:
    from orchestration.report import write_report

    try:
        page = write_report(load_settings(), Path(args.out).resolve())
    except FileNotFoundError as exc:
        _say(f"error: {exc}")
        return 2
    _say(f"Segment report written to {page}")
    return 0


def cmd_audience(args: argparse.Namespace) -> int:
    from orchestration.audience import AudienceError, audience_name, build_audience
    from orchestration.exports import ExportError, export_audience

    settings = load_settings()
    try:
        audience = build_audience(settings.warehouse, args.topic, args.offer, args.size, segment=args.segment)
        result = export_audience(settings, audience, Path(args.out), args.format,
                                 audience=audience_name(args.topic, args.offer, args.segment))
    except (AudienceError, ExportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    top = audience["predicted_click_probability"]
    _say(f"Wrote {len(audience):,} mailable subscribers to {result.path} ({args.format} format), best first"
         + (f" (predicted click probability {top.iloc[0]:.3f} to {top.iloc[-1]:.3f}, mean {top.mean():.3f})."
            if len(audience) else "."))
    if audience.attrs.get("click_probability"):
        _say(f"Click probabilities: {audience.attrs['click_probability']}.")
    _say(f"Recorded as export {result.export_id} in serving.audience_exports"
         + (" and republished the serving files." if result.published else "."))
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    from orchestration.forget import forget

    settings = load_settings()
    try:
        report = forget(settings, args.email)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _say(("Already erased before; " if report.already_erased else "Erased; ")
         + f"{report.total:,} row(s) removed" + (":" if report.rows_deleted else "."))
    for where, n in sorted(report.rows_deleted.items()):
        _say(f"  {where}: {n:,}")
    if report.files_rewritten:
        _say(f"Rewrote {len(report.files_rewritten)} published or exported file(s).")
    _say("A later import of this address is rejected with the reason 'erased'.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailsift",
        description="Warehouse-native AI segmentation for e-mail lists. Settings come from MAILSIFT_* "
        "environment variables, each with a working default (see the README).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a synthetic landing folder and its truth/ answers")
    gen.add_argument("--subscribers", type=int, default=DEMO_SUBSCRIBERS)
    gen.add_argument("--seed", type=int, default=DEMO_SEED)
    gen.add_argument("--out", help="landing folder to write (default: MAILSIFT_LANDING_DIR)")
    gen.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    gen.set_defaults(func=cmd_generate)
    run = sub.add_parser("run", help="materialise every asset once, in-process, on the landing folder")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild the incremental event models from every raw row (normally only new files are read)")
    run.set_defaults(func=cmd_run)
    refresh = sub.add_parser("refresh", help="load new landing files and update every serving table with the "
                             "current champion models, without retraining (what the landing sensor starts)")
    refresh.set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help=f"generate {DEMO_SUBSCRIBERS:,} subscribers, run, summarise")
    demo.add_argument("--subscribers", type=int, default=DEMO_SUBSCRIBERS)
    demo.add_argument("--seed", type=int, default=DEMO_SEED)
    demo.set_defaults(func=cmd_demo)
    aud = sub.add_parser("audience", help="a ranked, mailable audience for a planned campaign or a segment, "
                         "best first, as an ESP-ready file")
    aud.add_argument("--topic", help="the planned campaign's content_topic")
    aud.add_argument("--offer", help="the planned campaign's offer_type")
    aud.add_argument("--segment", help="a macro or micro segment id (M01, M01-02): its mailable members")
    aud.add_argument("--size", default="100%", help="N subscribers, or P%% of the mailable candidates (default 100%%)")
    aud.add_argument("--format", choices=("plain", "mailchimp", "klaviyo"), default="plain",
                     help="the file's columns: an ESP's import convention, or plain (default)")
    aud.add_argument("--out", required=True, help="file to write (.csv; .parquet for the plain format)")
    aud.set_defaults(func=cmd_audience)
    forget_p = sub.add_parser("forget", help="erase one person from every layer, model output and export")
    forget_p.add_argument("email")
    forget_p.set_defaults(func=cmd_forget)
    report = sub.add_parser("report", help="write a static HTML segment report (one card per segment)")
    report.add_argument("--out", required=True, help="folder for index.html")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "subscribers", 1) is not None and getattr(args, "subscribers", 1) < 1:
        print("error: --subscribers must be at least 1", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
