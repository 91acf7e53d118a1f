"""Runs: the run directory, the contract between the trainer and every reader (rundir.py);
the queue and worker (launcher.py) and Ray (ray_runner.py) that train queued runs; sweeps
(sweep.py), the stakeholder demo (demo.py), runs taught with a person's labels (teach.py) and
a room's (room.py), speed estimates (speed.py) and result tables (tables.py) read from run
directories."""
