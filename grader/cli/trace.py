"""``grader trace``: an optimizer of the core on a typed function, its path printed or plotted (:mod:`grader.tracing`)."""

from __future__ import annotations

import click

from grader.cli.common import fail


@click.command()
@click.argument("optimizer")
@click.option(
    "--f",
    "formula",
    required=True,
    help='The function, e.g. "x**2 + 2" or "x**2 - y**2" (variables x, y, z or x1, x2, …).',
)
@click.option("--x0", required=True, help="Starting point, comma-separated for several variables: 4 or 4,3.")
@click.option("--lr", type=float, default=None, help="Learning rate η (default: PyTorch's for the optimizer).")
@click.option("--momentum", type=float, default=None, help="β for momentum and nesterov.")
@click.option("--nesterov", is_flag=True, help="Use Nesterov momentum (with the momentum optimizer).")
@click.option("--alpha", type=float, default=None, help="α for rmsprop.")
@click.option("--betas", default=None, help="β₁,β₂ for adam, e.g. 0.9,0.999.")
@click.option("--eps", type=float, default=None, help="ε for adagrad, rmsprop and adam.")
@click.option("--steps", type=int, default=10, show_default=True, help="Number of steps N (iterates x0 … xN).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also draw the path to this PNG file.",
)
def trace(
    optimizer: str,
    formula: str,
    x0: str,
    lr: float | None,
    momentum: float | None,
    nesterov: bool,
    alpha: float | None,
    betas: str | None,
    eps: float | None,
    steps: int,
    output_format: str,
    plot: str | None,
) -> None:
    """Run OPTIMIZER (gd, momentum, nesterov, adagrad, rmsprop, adam) on a function and print its path.

    Example: grader trace adam --f "x**2 + 2" --x0 4 --lr 0.1 --steps 50 --format json
    """
    from grader.tracing import run_trace

    try:
        result = run_trace(optimizer, formula, x0, lr, momentum, nesterov, alpha, betas, eps, steps)
    except ValueError as exc:
        fail(str(exc))
    from grader.reports import trace_output

    click.echo(trace_output.render(result, output_format), nl=False)
    if result.trace.diverged_at is not None:
        click.echo(
            f"note: diverged at step {result.trace.diverged_at}; printed the steps before it.",
            err=True,
        )
    if plot:
        from grader.reports.trace_plot import plot_trace

        try:
            plot_trace(result.formula, result.trace, plot, title=f"{optimizer} on f = {{f}}")
        except OSError as exc:
            fail(f"could not write the plot to {plot}: {exc.strerror}")
