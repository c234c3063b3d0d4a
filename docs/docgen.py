"""Reference and results pages generated from the repository's own files.

Each generator takes the repository root (the folder of ``mkdocs.yml``) and returns Markdown:
``parameters`` from ``params.yaml`` and the paper overlay ``params-paper.yaml`` (the YAML
end-of-line comments are the descriptions), ``outputs`` from ``dvc.yaml`` and the committed
``metrics/*.json``, ``results`` from those metrics. Nothing here retypes a number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from benchmark.core.caveats import PHANTOM_WARNING
from benchmark.core.fitzpatrick import few_dark_warning

Json = dict[str, Any]


def load_yaml(path: Path) -> Any:
    """Round-trip load (keeps line numbers, which locate the comments)."""
    return YAML(typ="rt").load(path.read_text(encoding="utf-8"))


def comment_at(lines: list[str], line: int, col: int) -> str:
    """The comment describing the YAML item at ``line`` (0-based) whose key starts at ``col``.

    The full-line comments right above the item, then its end-of-line comment with the
    comment lines below aligned under it (a continued comment).
    """
    above: list[str] = []
    i = line - 1
    while i >= 0 and lines[i].strip().startswith("#") and _indent(lines[i]) == col:
        above.insert(0, lines[i].strip()[1:].strip())
        i -= 1
    own: list[str] = []
    hash_col = _comment_col(lines[line])
    if hash_col is not None:
        own.append(lines[line][hash_col + 1 :].strip())
        j = line + 1
        while j < len(lines) and lines[j].strip().startswith("#") and _indent(lines[j]) == hash_col:
            own.append(lines[j].strip()[1:].strip())
            j += 1
    return " ".join(above + own)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _comment_col(text: str) -> int | None:
    """Column of the end-of-line ``#`` outside quotes (None: no comment after a value)."""
    quote = ""
    for k, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and k > 0 and text[k - 1] in " \t" and text[:k].strip():
            return k
    return None


def fmt(value: Any) -> str:
    """A value as YAML flow text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(float(value))
    text = str(value)
    return f'"{text}"' if text.lower() in {"", "no", "yes", "on", "off", "null"} else text


def cell(text: str) -> str:
    """Escape text for a Markdown table cell."""
    for raw, escaped in (("\\", "\\\\"), ("|", "\\|"), ("*", "\\*"), ("[", "\\["), ("<", "&lt;")):
        text = text.replace(raw, escaped)
    return text


def code(value: Any) -> str:
    """A value as a code span inside a table cell."""
    return "`" + fmt(value).replace("|", "\\|") + "`"


def leaves(node: CommentedMap, prefix: str = "") -> Iterator[tuple[str, Any, int, int]]:
    """Every key of a mapping, depth first: (dotted path, value, line, column).

    Mappings are walked into and listed too (their value ``None``) where a comment names them.
    """
    for key, value in node.items():
        path = f"{prefix}{key}"
        line, col = node.lc.key(key)
        if isinstance(value, CommentedMap):
            yield path, None, line, col
            yield from leaves(value, path + ".")
        else:
            yield path, value, line, col


def leaf_keys(root: Path) -> list[str]:
    """Dotted paths of every leaf of ``params.yaml``."""
    params = load_yaml(root / "params.yaml")
    return [path for path, value, _, _ in leaves(params) if value is not None]


def _lookup(tree: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return False, None
        tree = tree[part]
    return True, tree


def parameters(root: Path) -> str:
    """Every key of ``params.yaml``: default, the paper profile's value, description."""
    lines = (root / "params.yaml").read_text(encoding="utf-8").splitlines()
    params = load_yaml(root / "params.yaml")
    overlay_file = root / "params-paper.yaml"
    overlay = load_yaml(overlay_file) if overlay_file.exists() else CommentedMap()
    out: list[str] = []
    for section, body in params.items():
        line, col = params.lc.key(section)
        out += [f"## `{section}`", ""]
        if isinstance(body, CommentedMap):
            note = comment_at(lines, line, col)
            out += [note, ""] if note else []
            rows = list(leaves(body, f"{section}."))
        else:
            rows = [(section, body, line, col)]
        out += ["| key | default | paper profile | description |", "|---|---|---|---|"]
        for path, value, kline, kcol in rows:
            desc = cell(comment_at(lines, kline, kcol))
            if value is None:
                if desc:
                    out.append(f"| `{path}` | (below) | | {desc} |")
                continue
            set_, paper = _lookup(overlay, path)
            paper_cell = code(paper) if set_ and fmt(paper) != fmt(value) else "same"
            out.append(f"| `{path}` | {code(value)} | {paper_cell} | {desc} |")
        out.append("")
    extra = [p for p, v, _, _ in leaves(overlay) if v is not None and not _lookup(params, p)[0]]
    if extra:
        out += ["## Set by the paper profile only", ""]
        out += [f"- `{p}`: {code(_lookup(overlay, p)[1])}" for p in extra] + [""]
    return "\n".join(out)


def _entries(items: Any) -> Iterator[tuple[str, Any, int]]:
    """(path, options, index) of a ``dvc.yaml`` outs/metrics/plots list."""
    for index, item in enumerate(items or []):
        if isinstance(item, dict):
            for path, options in item.items():
                yield str(path), options, index
        else:
            yield str(item), None, index


def dvc_outs(root: Path) -> list[str]:
    """Every path ``dvc.yaml``'s stages declare as outs, metrics or plots."""
    dvc = load_yaml(root / "dvc.yaml")
    return [
        path
        for stage in dvc["stages"].values()
        for kind in ("outs", "metrics", "plots")
        for path, _, _ in _entries(stage.get(kind))
    ]


def outputs(root: Path) -> str:
    """What each stage writes (``dvc.yaml``), then the committed metrics files' keys."""
    lines = (root / "dvc.yaml").read_text(encoding="utf-8").splitlines()
    dvc = load_yaml(root / "dvc.yaml")
    out = ["| path | kind | stage | notes |", "|---|---|---|---|"]
    for name, stage in dvc["stages"].items():
        desc = stage.get("desc", "")
        for kind in ("outs", "metrics", "plots"):
            seq = stage.get(kind)
            for path, options, index in _entries(seq):
                notes = [str(desc)] if desc else []
                if isinstance(seq, CommentedSeq):
                    line, col = seq.lc.item(index)
                    notes.append(comment_at(lines, line, col))
                if isinstance(options, dict):
                    notes += [f"{k}: {fmt(v)}" for k, v in options.items()]
                git = "in git" if kind == "metrics" else "DVC cache, git-ignored"
                notes_text = "; ".join(n for n in [git, *notes] if n)
                out.append(f"| `{path}` | {kind} | `{name}` | {cell(notes_text)} |")
    out += ["", "## Outside any stage", ""]
    out += [f"- `{p}`: top-level `metrics` (runtimes, git-ignored)" for p in dvc["metrics"]]
    for plot in dvc["plots"]:
        for plot_name, spec in plot.items():
            files = ", ".join(f"`{f}`" for f in spec["y"])
            out.append(f"- plot `{plot_name}` ({cell(str(spec['title']))}): {files}")
    out += ["", "## Keys of the committed metrics files", ""]
    for file in sorted((root / "metrics").glob("*.json")):
        keys = ", ".join(f"`{k}`" for k in _read(file))
        out.append(f"- `metrics/{file.name}`: {keys or '(empty)'}")
    return "\n".join(out) + "\n"


def _read(path: Path) -> Json:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _num(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _interval(row: Json, key: str) -> str:
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    return f"[{_num(low)}, {_num(high)}]"


def results(root: Path) -> str:
    """The committed run's numbers, from ``metrics/*.json`` and the profile they came from."""
    m = {p.stem: _read(p) for p in (root / "metrics").glob("*.json")}
    params = load_yaml(root / "params.yaml")
    out = [
        f"Profile `{params['profile']}`, data source `{params['ingest']['source']}`: "
        f"{m['ingest'].get('ingested', 'n/a')} images of {m['ingest'].get('patients', 'n/a')} "
        "patients ingested.",
        "",
    ]
    if params["ingest"]["source"] == "phantoms":
        out += ['!!! warning "Phantom data"', f"    {PHANTOM_WARNING}", ""]
    counts = m["skintone"].get("counts", {})
    dark = counts.get("V", 0) + counts.get("VI", 0) if counts else None
    warning = few_dark_warning(dark, "image")
    if warning:
        out += ['!!! warning "Few dark-skin images"', f"    {warning}", ""]
    per_tone = params["split"]["test_per_tone"]
    if per_tone:
        out += [
            f"Every skin-type number below rests on the real test split, which holds at least "
            f"{per_tone} images per tone group by design (`split.test_per_tone`).",
            "",
        ]
    out += list(_fairness(m["fairness"])) + list(_classify(m["classify"]))
    out += list(_segment(m["segment"])) + list(_skintone(m["skintone"], counts))
    out += list(_generative(m)) + list(_splits(m["split"]))
    return "\n".join(out) + "\n"


def _fairness(fair: Json) -> Iterator[str]:
    for key, label in (("tone_gaps", "`fst_robust`"), ("tone_gaps_fst_paper", "`fst_paper`")):
        yield f"## AUC V–VI minus I–II, grouped by {label}"
        yield ""
        yield "Each variant over its seeds; 95% interval over seeds and patients."
        yield ""
        yield "| variant | test AUC | AUC contrast | interval | p | sens. contrast | interval |"
        yield "|---|---:|---:|---|---:|---:|---|"
        for variant, row in fair.get(key, {}).items():
            yield (
                f"| {variant} | {_num(row.get('auc_mean'))} | {_num(row.get('auc_contrast'))} "
                f"| {_interval(row, 'auc_contrast')} | {_num(row.get('auc_contrast_p'))} "
                f"| {_num(row.get('sensitivity_contrast'))} "
                f"| {_interval(row, 'sensitivity_contrast')} |"
            )
        yield ""
        for variant, row in fair.get(key, {}).items():
            yield f"- {variant}: {_verdict(row)}."
        yield ""
    yield "## Mitigations against the baseline (paired, Δ = B − A)"
    yield ""
    yield "| comparison | Δ AUC contrast | interval | p (Holm) | Δ equalized odds | p (Holm) |"
    yield "|---|---:|---|---:|---:|---:|"
    for pair, row in fair.get("paired", {}).items():
        yield (
            f"| {pair} | {_num(row.get('contrast_auc_delta'))} "
            f"| {_interval(row, 'contrast_auc_delta')} | {_num(row.get('contrast_auc_p_holm'))} "
            f"| {_num(row.get('equalized_odds_delta'))} "
            f"| {_num(row.get('equalized_odds_p_holm'))} |"
        )
    yield ""


def _verdict(row: Json) -> str:
    low, high = row.get("auc_contrast_low"), row.get("auc_contrast_high")
    if low is None or high is None:
        return "undefined"
    if high < 0:
        return "AUC lower on V–VI (the interval excludes 0)"
    if low > 0:
        return "AUC higher on V–VI (the interval excludes 0)"
    return "no difference shown (the interval includes 0)"


def _classify(cls: Json) -> Iterator[str]:
    yield "## Classification (real test split)"
    yield ""
    yield "| variant | test AUC | validation AUC per seed | failed | train images | synthetic |"
    yield "|---|---:|---|---:|---:|---:|"
    for variant, row in cls.items():
        if not isinstance(row, dict) or "test" not in row:
            yield f"| {variant} | {cell(str(row.get('status', 'not run')))} | | | | |"
            continue
        val = ", ".join(f"{s}: {_num(v)}" for s, v in row.get("val_auc", {}).items())
        yield (
            f"| {variant} | {_num(row['test'].get('auc'))} | {val} | {len(row.get('failed', {}))} "
            f"| {row.get('train_images', 'n/a')} | {row.get('train_synthetic', 'n/a')} |"
        )
    yield ""


def _segment(seg: Json) -> Iterator[str]:
    yield "## Segmentation (real test split)"
    yield ""
    yield "| model | Dice | IoU | HD95 (px) | images scored | missed lesions | synthetic in train |"
    yield "|---|---:|---:|---:|---:|---:|---:|"
    for model, row in seg.items():
        if not isinstance(row, dict) or "mean" not in row:
            continue
        mean, defined = row["mean"], row.get("n_defined", {})
        yield (
            f"| {model} | {_num(mean.get('dice'))} | {_num(mean.get('iou'))} "
            f"| {_num(mean.get('hd95'), 1)} | {defined.get('dice', 'n/a')} "
            f"| {row.get('empty_cases', {}).get('pred_empty', 'n/a')} "
            f"| {row.get('train_synthetic', 'n/a')} |"
        )
    yield ""
    yield (
        "Dice by ITA type is not in the committed metrics: after a run it is in "
        "`reports/segment/by_fst.csv` and the report."
    )
    yield ""


def _skintone(tone: Json, counts: Json) -> Iterator[str]:
    yield "## ITA-estimated skin type"
    yield ""
    order = ["I", "II", "III", "IV", "V", "VI"]
    keys = [k for k in order if k in counts] + [k for k in counts if k not in order]
    yield "| " + " | ".join(keys) + " |"
    yield "|" + "---:|" * len(keys)
    yield "| " + " | ".join(str(counts[k]) for k in keys) + " |"
    yield ""
    for name in ("robust", "paper"):
        agree = tone.get(f"agreement_{name}", {})
        if agree:
            yield (
                f"- `{name}` against the labelled types: exact {_num(agree.get('exact'))}, "
                f"within one {_num(agree.get('within_one'))}, quadratic-weighted kappa "
                f"{_num(agree.get('kappa_quadratic'))} ({agree.get('support')} images)."
            )
    share = tone.get("crosstab", {}).get("paper_V_VI_robust_I_IV_share")
    if share is not None:
        yield f"- Share of the paper rule's V–VI the robust estimate calls I–IV: {_num(share)}."
    yield ""


def _generative(m: Json) -> Iterator[str]:
    val, lora = m.get("validate_synthetic", {}), m.get("finetune_lora", {})
    yield "## Generative branch"
    yield ""
    subset = ", ".join(f"{k} {v}" for k, v in lora.get("subset", {}).items())
    yield f"- LoRA: {lora.get('steps', 'n/a')} steps on the train split's V–VI images ({subset})."
    yield (
        f"- Validation kept {val.get('validated', 'n/a')} of {val.get('synthetic', 'n/a')} "
        f"synthetic images (lesion check passed by {_num(val.get('kept_lesion_rate'))} of the "
        f"kept, requested tone group {_num(val.get('kept_tone_rate'))})."
    )
    yield ""


def _splits(split: Json) -> Iterator[str]:
    yield "## Split (real images, patient-level)"
    yield ""
    yield "| split | images | patients | melanocytic share | synthetic |"
    yield "|---|---:|---:|---:|---:|"
    for name in ("train", "val", "test"):
        row = split.get(name, {})
        yield (
            f"| {name} | {row.get('images')} | {row.get('patients')} "
            f"| {_num(row.get('melanocytic_share'))} | {row.get('synthetic')} |"
        )
    yield ""


GENERATORS: dict[str, Callable[[Path], str]] = {
    "parameters": parameters,
    "outputs": outputs,
    "results": results,
}
