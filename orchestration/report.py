"""``mailsift report --out DIR``: a static HTML page with one card per segment and the model quality figures.

Reads only the published Parquet files (``MAILSIFT_SERVING_DIR``) and the MLflow registry, so it works
while a run holds the warehouse. Charts are inline SVG; the page fetches nothing from the network.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from orchestration import fairness
from orchestration.settings import Settings

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} .meta{color:#666;margin-top:0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:1rem}
.card{border:1px solid #ddd;border-radius:8px;padding:1rem;background:#fafafa}
.card h2{font-size:1.05rem;margin:.1rem 0 .4rem} .sid{color:#888;font-weight:normal}
.size{font-size:.9rem;color:#444} ul{padding-left:1.1rem;margin:.4rem 0} li{font-size:.85rem;margin:.15rem 0}
.rec{font-size:.85rem;background:#eef4fb;border-radius:6px;padding:.4rem .6rem;margin:.5rem 0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem} td,th{border-bottom:1px solid #e3e3e3;padding:.25rem .6rem;font-size:.85rem;text-align:left}
.micro{font-size:.8rem;color:#555}
"""


def _e(x) -> str:
    return html.escape("" if x is None or (isinstance(x, float) and pd.isna(x)) else str(x))


def bar_svg(labels: list[str], values: list[float], width: int = 300, unit: str = "x") -> str:
    """A small horizontal bar chart (inline SVG) with a reference line at 1 when ``unit`` is 'x' (lift)."""
    if not values:
        return ""
    row, label_w = 16, 95
    h = row * len(values) + 6
    top = max(max(values), 1.0 if unit == "x" else 0.0) or 1.0
    scale = (width - label_w - 45) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img">']
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = 3 + i * row
        w = max(v * scale, 1)
        parts.append(f'<text x="{label_w - 4}" y="{y + 11}" font-size="10" text-anchor="end">{_e(lab)}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" fill="#4C72B0"/>'
                     f'<text x="{label_w + w + 3:.1f}" y="{y + 11}" font-size="10">{v:.2f}{unit}</text>')
    if unit == "x":
        x1 = label_w + scale
        parts.append(f'<line x1="{x1:.1f}" x2="{x1:.1f}" y1="0" y2="{h}" stroke="#c44" stroke-dasharray="3,2"/>')
    parts.append("</svg>")
    return "".join(parts)


def _card(seg: pd.Series, micros: pd.DataFrame, response: pd.DataFrame) -> str:
    traits = [t.strip() for t in str(seg["key_traits"]).split(";") if t.strip()]
    topic = response[(response["segment_id"] == seg["segment_id"]) & (response["dimension"] == "content_topic")]
    topic = topic.sort_values("lift", ascending=False)
    chart = bar_svg(topic["value"].tolist(), topic["lift"].round(3).tolist())
    hour = seg["recommended_send_hour"]
    rec = [f"send around {int(hour):02d}:00 local" if pd.notna(hour) else "no send-hour history",
           _e(seg["recommended_content"]), f"{seg['recommended_cadence']:g} e-mails a week"]
    scores = []
    if pd.notna(seg.get("avg_clv")):
        scores.append(f"average predicted 365-day CLV {seg['avg_clv']:,.2f}")
    if pd.notna(seg.get("avg_churn_probability")):
        scores.append(f"average churn probability {seg['avg_churn_probability']:.0%}")
    micro_items = "".join(f"<li><b>{_e(m.segment_id)}</b> {_e(m.name)} ({int(m.size):,})</li>"
                          for m in micros.itertuples())
    return (f'<section class="card" data-segment-id="{_e(seg["segment_id"])}">'
            f'<h2>{_e(seg["name"])} <span class="sid">{_e(seg["segment_id"])}</span></h2>'
            f'<div class="size">{int(seg["size"]):,} subscribers · {seg["share"]:.1%} of the list</div>'
            f'<p>{_e(seg["description"])}</p>'
            f'<ul>{"".join(f"<li>{_e(t)}</li>" for t in traits)}</ul>'
            f'<div class="rec"><b>Recommended:</b> {"; ".join(rec)}'
            + (f'<br>{"; ".join(scores)}' if scores else "") + "</div>"
            + (f'<div class="micro">Click lift by topic (1 = list average)</div>{chart}' if chart else "")
            + f'<details><summary class="micro">{len(micros)} micro-segments</summary><ul>{micro_items}</ul></details>'
            "</section>")


def model_quality() -> pd.DataFrame:
    """Metrics of every registered mailsift model's champion (empty when there is no registry yet)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    rows = []
    for rm in client.search_registered_models():
        if not rm.name.startswith("mailsift-"):
            continue
        try:
            mv = client.get_model_version_by_alias(rm.name, "champion")
        except MlflowException:
            continue
        metrics = client.get_run(mv.run_id).data.metrics
        for k, v in sorted(metrics.items()):
            if "." in k and not k.startswith("backtest"):
                continue  # per-k curves and gate flags: in MLflow, not on the page
            rows.append({"model": rm.name, "version": mv.version, "metric": k, "value": v})
    return pd.DataFrame(rows, columns=["model", "version", "metric", "value"])


def render(settings: Settings) -> str:
    folder = settings.serving_dir
    need = folder / "segment_profiles.parquet"
    if not need.exists():
        raise FileNotFoundError(f"{need} does not exist: run `mailsift run` (or `mailsift demo`) first.")
    profiles = pd.read_parquet(need)
    resp_path = folder / "segment_content_response.parquet"
    response = pd.read_parquet(resp_path) if resp_path.exists() else pd.DataFrame(
        columns=["segment_id", "dimension", "value", "lift"])
    macro = profiles[profiles["level"] == "macro"].sort_values("size", ascending=False)
    micro = profiles[profiles["level"] == "micro"]
    cards = [_card(seg, micro[micro["parent_segment_id"] == seg["segment_id"]].sort_values("size", ascending=False),
                   response) for _, seg in macro.iterrows()]
    from orchestration import model_registry as registry

    registry.configure(settings)
    quality = model_quality()
    qrows = "".join(f"<tr><td>{_e(r.model)}</td><td>{_e(r.version)}</td><td>{_e(r.metric)}</td>"
                    f"<td>{r.value:.4g}</td></tr>" for r in quality.itertuples())
    as_of = profiles["as_of"].max()
    version = profiles["model_version"].iloc[0] if len(profiles) else ""
    total = int(macro["size"].sum())
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>mailsift segments as of {_e(as_of)}</title><style>{_CSS}{fairness.CSS}</style></head><body>"
        f"<h1>Segments</h1><p class=meta>{total:,} subscribers in {len(macro)} macro and {len(micro)} micro "
        f"segments · as of {_e(as_of)} · mailsift-segmentation v{_e(version)} · generated "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>"
        f'<div class="cards">{"".join(cards)}</div>'
        "<h2>Model quality (champions)</h2>"
        + (f"<table><tr><th>model</th><th>version</th><th>metric</th><th>value</th></tr>{qrows}</table>"
           if qrows else "<p>No registered champion models yet.</p>")
        + fairness.render_section(fairness.load(folder))
        + "</body></html>")


def write_report(settings: Settings, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(render(settings), encoding="utf-8")
    return page
