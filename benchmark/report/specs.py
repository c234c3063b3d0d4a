"""What the report expects of each stage's JSON files, checked by benchmark.report.schema."""

from __future__ import annotations

from benchmark.report import schema as s

_NOTES = s.ListOf(s.STR)
TABLE1 = s.Keys(
    {
        "rows": s.ListOf(
            s.Keys(
                {
                    "fst": s.STR,
                    "total": s.NUM,
                    "share": s.NUM,
                    "paper_total": s.NUM,
                    **{k: s.NUM for k in ("melanocytic", "non_melanocytic")},
                    **{k: s.NUM for k in ("paper_melanoma", "paper_non_melanoma")},
                }
            )
        ),
        "notes": _NOTES,
    }
)
AGREEMENT = s.MapOf(
    s.Keys(
        {
            "support": s.NUM,
            "confusion": s.MapOf(s.MapOf(s.NUM)),
            **{k: s.OPT_NUM for k in ("exact", "within_one", "kappa_quadratic")},
        },
        optional={"reason": s.OPT_STR, "uncertain": s.NUM},
    )
)
_NOT_RUN_PARTS: dict[str, s.Spec] = {
    "not_run": s.MapOf(s.STR)
}  # model or variant -> why it did not run
TABLE3 = s.Keys(
    {
        "models": s.MapOf(s.Keys({"mean": s.MapOf(s.OPT_NUM)}, optional={"test_images": s.NUM})),
        "paper": s.MapOf(s.MapOf(s.NUM)),
        "notes": _NOTES,
        "by_fst": s.ListOf(
            s.Keys({"model": s.STR, "fst": s.STR, "support": s.NUM}, rest=s.OPT_NUM)
        ),
    },
    optional=_NOT_RUN_PARTS,
)
TABLE5 = s.Keys(
    {
        "paper": s.MapOf(s.MapOf(s.ListOf(s.NUM, length=2))),
        "ours": s.MapOf(s.MapOf(s.MapOf(s.ListOf(s.OPT_NUM, length=3)))),
        "notes": _NOTES,
    },
    optional=_NOT_RUN_PARTS,
)
_CI = s.Keys({"low": s.OPT_NUM, "high": s.OPT_NUM})
_DELTA = s.Keys({"a": s.OPT_NUM, "b": s.OPT_NUM, "delta": s.OPT_NUM, "p_value": s.OPT_NUM})
PAIRED = s.Keys(
    {
        "a": s.STR,
        "b": s.STR,
        "n": s.NUM,
        "n_bootstrap": s.NUM,
        "rule": s.STR,
        "method": s.STR,
        "compared_groups": s.ListOf(s.STR),
        "overall": s.MapOf(_DELTA),
        "by_group": s.MapOf(s.MapOf(_DELTA)),
        "gaps": s.MapOf(_DELTA),
        "equalized_odds_difference": _DELTA,
        "demographic_parity_difference": _DELTA,
    }
)
FAIRNESS = s.Keys(
    {
        "overall": s.MapOf(s.OPT_NUM),
        "by_group": s.MapOf(
            s.Keys(
                {"support": s.NUM, "positives": s.NUM},
                optional={"compared": s.BOOL},
                rest=s.OPT_NUM,
            )
        ),
        "worst_group": s.MapOf(s.Keys({"group": s.OPT_STR, "value": s.OPT_NUM})),
        "gaps": s.MapOf(s.OPT_NUM),
        "equalized_odds_difference": s.OPT_NUM,
        "demographic_parity_difference": s.OPT_NUM,
        "threshold": s.OPT_NUM,
        "threshold_source": s.OPT_STR,
        "undefined": s.ListOf(s.Keys({"group": s.OPT_STR, "metric": s.STR, "reason": s.STR})),
        "small_groups": s.ListOf(s.STR),
    },
    optional={
        "ci": s.Keys(
            {},
            optional={
                "overall": s.MapOf(_CI),
                "by_group": s.MapOf(s.MapOf(_CI)),
                "gaps": s.MapOf(_CI),
                "equalized_odds_difference": _CI,
                "demographic_parity_difference": _CI,
            },
        )
    },
)
METRICS = s.Keys({})
