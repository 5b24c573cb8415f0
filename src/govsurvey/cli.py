"""The ``govsurvey`` command line: validate instruments and data, score, and run studies."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from govsurvey.errors import GovsurveyError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="govsurvey: survey and mixed-methods research for grass-roots public-health emergency governance.")
console = Console()
err_console = Console(stderr=True)


def _setup_logging(verbose: int) -> None:
    """Warnings always reach the terminal (stderr); ``-v`` adds govsurvey's INFO log (e.g. a
    summary of WeasyPrint's typesetting warnings), ``-vv`` its DEBUG log (each of them).
    Other libraries stay at WARNING, so their progress chatter never fills the screen."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=err_console, show_time=False, show_path=False)], force=True)
    logging.getLogger("govsurvey").setLevel(logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.NOTSET)


def _fail(exc: GovsurveyError) -> None:
    err_console.print(f"[bold red]Error[/] ({type(exc).__name__}): {escape(str(exc))}", markup=True, highlight=False)
    raise typer.Exit(code=2)


@app.callback()
def main(verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="Log more detail (-vv: everything).")) -> None:
    _setup_logging(verbose)


@app.command()
def validate(
    instrument: Path = typer.Argument(..., help="Instrument YAML or XLSForm (.xlsx)."),
    data: Optional[Path] = typer.Option(None, "--data", "-d", help="A data file to check against the instrument."),
    encoding: Optional[str] = typer.Option(None, help="CSV encoding (detected when omitted)."),
    sheet: Optional[str] = typer.Option(None, help="Excel sheet name."),
) -> None:
    """Check an instrument (and optionally a data file) and summarise it."""
    import govsurvey as gs

    try:
        inst = gs.load_instrument(instrument)
        table = Table(title=f"{inst.title.get(inst.languages[0], inst.name)} — {inst.name} v{inst.version}")
        for col in ("construct", "label", "parent", "items"):
            table.add_column(col)
        for name, c in inst.constructs.items():
            table.add_row(name, c.label.get(inst.languages[0], ""), c.parent or "",
                          ", ".join(c.items) if c.items else f"({len(inst.items_of(name))} via children)")
        console.print(table)
        console.print(f"{len(inst.items)} items ({len(inst.reverse_keyed)} reverse-keyed), "
                      f"{len(inst.demographics)} background questions, languages: {', '.join(inst.languages)}.")
        if data is not None:
            df = gs.read_responses(data, inst, encoding=encoding, sheet=sheet)
            info = df.attrs["govsurvey"]
            console.print(f"[green]Data OK[/]: {df.shape[0]} respondents; {len(info['matched'])} columns matched"
                          + (f"; encoding {info['encoding']}" if info.get("encoding") else "")
                          + ("; Wenjuanxing export" if info.get("wenjuanxing") else "") + ".")
            if info["unmatched_columns"]:
                console.print(f"[yellow]Unmatched columns[/] (kept as they are): {', '.join(info['unmatched_columns'])}")
            if info["missing_questions"]:
                console.print(f"[yellow]Questions with no column[/]: {', '.join(info['missing_questions'])}")
    except GovsurveyError as exc:
        _fail(exc)


@app.command("score")
def score_cmd(
    instrument: Path = typer.Argument(..., help="Instrument YAML or XLSForm."),
    data: Path = typer.Argument(..., help="Responses (.csv .tsv .xlsx .sav .dta .parquet)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write the scores (CSV); default: <data>_scores.csv beside the data."),
    method: str = typer.Option("mean", help="mean or sum."),
    min_valid: float = typer.Option(0.8, help="Share of a construct's items needed for a score."),
    no_screen: bool = typer.Option(False, "--no-screen", help="Score every respondent, without screening."),
    encoding: Optional[str] = typer.Option(None, help="CSV encoding (detected when omitted)."),
) -> None:
    """Read, screen and score responses; write one row per retained respondent."""
    import govsurvey as gs
    from govsurvey.data import write_atomic
    from govsurvey.data.outputs import check_not_inputs
    from govsurvey.data.writers import neutralise_cells

    try:
        out = out or data.with_name(f"{data.stem}_scores.csv")
        check_not_inputs([out], [instrument, data], fix="give --out a new file name")
        inst = gs.load_instrument(instrument)
        df = gs.read_responses(data, inst, encoding=encoding)
        if not no_screen:
            result = gs.screen(df, inst)
            console.print(f"Screening: {result.n_total} read, {result.n_excluded} excluded "
                          f"({', '.join(f'{r} {int(result.flags[r].sum())}' for r in result.flags.columns)}).")
            df = result.clean
        scores = gs.score(df, inst, method=method, min_valid=min_valid)
        write_atomic(out, lambda p: neutralise_cells(scores).to_csv(p, encoding="utf-8-sig"))
        console.print(f"[green]Wrote[/] {out} ({scores.shape[0]} respondents × {scores.shape[1]} constructs).")
    except GovsurveyError as exc:
        _fail(exc)


@app.command()
def run(
    spec: Path = typer.Argument(..., help="Study spec, e.g. analyses/example.yaml."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder, e.g. reports/example/."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="Log more detail, e.g. PDF typesetting warnings (-vv: each one)."),
) -> None:
    """Run a study spec and write its results into the output folder.

    Every analysis that can be computed is; one that fails is marked in the report and in
    results.json, listed at the end, and the exit status is 1 (2: nothing could run)."""
    from govsurvey.study import Study, steps

    if verbose:
        _setup_logging(verbose)
    try:
        study = Study.from_yaml(spec)
        order = steps(study)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), console=console, transient=False) as bar:
            task = bar.add_task(f"{study.name}: starting", total=len(order))

            def progress(step: str) -> None:
                bar.update(task, description=f"{study.name}: {step}", completed=order.index(step))

            results = study.run(progress=progress)
            progress("write")
            paths, write_failures = results.write_outputs(out)
            bar.update(task, description=f"{study.name}: done", completed=len(order))
    except GovsurveyError as exc:
        _fail(exc)
    except Exception as exc:  # noqa: BLE001 - a bug must still end in one readable line, not a traceback
        err_console.print(f"[bold red]Internal error[/] ({type(exc).__name__}): {escape(str(exc))}. This is a bug in govsurvey: "
                          "please report it with the spec and the command.", markup=True, highlight=False)
        raise typer.Exit(code=3) from None
    _summary(results, paths, [*results.failures, *write_failures])


def _summary(results, paths: dict, failures: list) -> None:
    """What was written, then what failed (exit 1 when anything did)."""
    sc = results.screening
    done = len(results.outcomes) - sum(o.failure is not None for o in results.outcomes)
    console.print(f"Read {sc.n_total} responses; excluded {sc.n_excluded}; scored {results.scores.shape[0]} "
                  f"respondents on {results.scores.shape[1]} constructs; {done} of {len(results.outcomes)} analyses computed.")
    for kind, path in paths.items():
        console.print(f"  {kind:<14} {path}")
    if not failures:
        return
    err_console.print(f"[bold red]{len(failures)} could not be computed or written[/] (marked in the report and in results.json):",
                      markup=True, highlight=False)
    for f in failures:
        about = f" — {escape(f.about)}" if getattr(f, "about", "") else ""
        err_console.print(f"  [bold]{escape(f.key)}[/]{about} ({f.error}): {escape(_short(f.message))}"
                          + (f" Fix: {escape(_short(f.fix))}" if f.fix else ""), markup=True, highlight=False)
    raise typer.Exit(code=1)


def _short(text: str, limit: int = 240) -> str:
    """One failure's text, cut to keep the summary on one screen (results.json has it whole)."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + " …"


if __name__ == "__main__":  # pragma: no cover
    app()
