"""``skinbench profile NAME``: write a profile's overlay over params.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.core.config.base import ConfigError
from benchmark.core.io import write_text_atomic
from stages.support.params import PARAMS, apply_overlay, profile


@click.command("profile")
@click.argument("name")
@click.option(
    "--params",
    "params_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=PARAMS,
    help="The params file to rewrite [default: the project's params.yaml].",
)
def profile_cmd(name: str, params_file: Path) -> None:
    """Switch params.yaml to the profile NAME (params-NAME.yaml beside it, an overlay).

    The overlay holds only what the profile changes; every key it names must exist in
    params.yaml. ``git checkout params.yaml`` returns to the embedded profile.
    """
    overlay = params_file.with_name(f"params-{name}.yaml")
    if not overlay.is_file():
        found = sorted(
            p.stem.removeprefix("params-") for p in params_file.parent.glob("params-*.yaml")
        )
        raise click.UsageError(f"no profile {name!r}: {overlay} not found; profiles: {found}")
    try:
        current = profile(params_file)
        if current != "embedded":
            raise click.UsageError(
                f"{params_file} is already the {current!r} profile; "
                f"`git checkout {params_file.name}` first"
            )
        text = apply_overlay(params_file, overlay)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    write_text_atomic(params_file, text)
    click.echo(f"{params_file}: profile {name} ({overlay.name} over it); now ./run.sh repro")
