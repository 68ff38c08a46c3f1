"""The command line: outputs, progress, errors with exit status ≠ 0 and nothing half-written."""
import subprocess
import sys

import numpy as np
import pandas as pd
import xarray as xr

from pmq.cli import main


def test_run_reference_writes_outputs(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", "reference", "--horizon", "12", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2019–2030" in printed and "8\u202f351,0" in printed          # French numbers by default
    ds = xr.open_dataset(out / "accounts.nc", engine="h5netcdf")
    assert ds.sizes["year"] == 13 and ds.attrs["scenario"] == "reference"
    assert set(ds.data_vars) >= {"employment", "net_creation", "departures", "openings", "young_entrants",
                                 "net_mobility", "other_recruits", "imbalance"}
    assert ds["employment"].dtype == np.float64
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["period"]) == {"2019–2024", "2019–2029", "2019–2030"}
    nat = summary[summary.period == "2019–2030"]["openings"].sum()
    assert abs(nat / 1e3 - 8351.0) < 0.1
    ds.close()


def test_bad_scenario_fails_cleanly(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\n[demand]\nspreding = "linear"\n')
    out = tmp_path / "res"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "demand.spreding" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]  # no temporary folder left behind


def test_user_data_folder(tmp_path, capsys):
    from test_inputs import tables
    emp, haz, flo = tables()
    d = tmp_path / "obs"
    d.mkdir()
    emp.to_csv(d / "employment.csv", index=False)
    haz.to_csv(d / "hazards.csv", index=False)
    flo.to_csv(d / "flows.csv", index=False)
    assert main(["run", "reference", "--data", str(d), "--horizon", "5", "--out", str(tmp_path / "r")]) == 0
    emp.loc[0, "employment"] = -5
    emp.to_csv(d / "employment.csv", index=False)
    assert main(["run", "reference", "--data", str(d), "--out", str(tmp_path / "r2")]) == 2
    err = capsys.readouterr().err
    assert "employment.csv, colonne 'employment'" in err and "emploi négatif" in err
    assert not (tmp_path / "r2").exists()


def test_help_documents_run(capsys):
    res = subprocess.run([sys.executable, "-m", "pmq.cli", "run", "--help"], capture_output=True, text=True)
    assert res.returncode == 0
    assert "--horizon" in res.stdout and "accounts.nc" in res.stdout and "SCÉNARIO" in res.stdout
    # the top-level help, from the same entry point in this process (a second interpreter start and
    # import of pmq would only cost time)
    try:
        code = main(["--help"])
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None) and "run" in capsys.readouterr().out
