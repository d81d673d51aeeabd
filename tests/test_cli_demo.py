"""mlpfit demo, called in-process (its smoke test as a user runs it is with the others, in test_cli.py)."""

from mlpfit.cli import main


def test_demo_reports_a_fit_far_better_than_a_line(capsys):
    assert main(["demo", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    fit_error = float(out.split("mlpfit defaults")[1].split(":")[1].split()[0])
    line_error = float(out.split("least-squares line")[1].split(":")[1].split()[0])
    assert fit_error < 0.4 < 2.0 < line_error
    assert "breakpoints" in out and "inside the data" in out


def test_demo_broken_prints_the_trap_diagnosed_next_to_the_fixed_fit(capsys):
    # the demo's own 30,000 steps, unpatched: catches a broken configuration that no longer shows the trap
    from mlpfit.cli.demo import BROKEN_MAX_ITER

    assert main(["demo", "--broken"]) == 0
    broken, fixed = capsys.readouterr().out.split("mlpfit defaults")
    assert "[error] effectively-linear" in broken and "[error] breakpoints-outside-data" in broken
    assert "inputs-not-standardized" in broken and f"max_iter={BROKEN_MAX_ITER}" in broken
    assert float(broken.split("broken fit")[1].split(":")[1].split()[0]) > 2.0
    assert "Diagnosis:" in fixed and "[error]" not in fixed and "[warning]" not in fixed
