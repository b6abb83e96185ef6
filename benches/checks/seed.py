"""Seeds a park's risk register, check tasks and a year of check records
straight into the database, for benches/checks/run.sh.

Per enterprise: one object, UNITS units (each with one event of its own
level, one measure watched by checks and two tasks: a daily check at 08:00
and a shift check every 8 hours from 00:00), and every occurrence from
1 January up to now recorded (one in twenty left missed). Ids sort below
any the service makes (00000000-0000-7000-…), so the service's change
markers still move with what it records after the seed.

usage: seed.py sqlite PATH | postgresql URL   (env UNITS, default 10;
RECORD_DAYS: record only the last so many days, the rest left missed —
to compare the service's memory at fewer records; default all)
"""

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile

backend, target = sys.argv[1], sys.argv[2]
UNITS = int(os.environ.get("UNITS", "10"))
RECORD_DAYS = os.environ.get("RECORD_DAYS")
TZ = dt.timedelta(hours=8)  # Asia/Shanghai, no DST

counter = 0


def next_id():
    global counter
    counter += 1
    return f"00000000-0000-7000-8000-{counter:012x}"


def query(sql):
    if backend == "sqlite":
        import sqlite3

        with sqlite3.connect(target) as db:
            return db.execute(sql).fetchall()
    out = subprocess.run(["psql", target, "-Atc", sql], check=True, capture_output=True, text=True)
    return [tuple(line.split("|")) for line in out.stdout.splitlines() if line]


enterprises = [row[0] for row in query("SELECT id FROM enterprises ORDER BY name")]
creator = query("SELECT id FROM users WHERE email = 'bench-contact@park.example.cn'")[0][0]
now_utc = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
now_local = now_utc + TZ
year_start = dt.datetime(now_local.year, 1, 1)
records_from = now_local - dt.timedelta(days=int(RECORD_DAYS)) if RECORD_DAYS else year_start
stamp = (year_start - TZ).strftime("%Y-%m-%d %H:%M:%S")
levels = ["major", "serious", "general", "low"]
ls = {"major": (4, 5), "serious": (3, 5), "general": (3, 3), "low": (1, 2)}

rows = {t: [] for t in ["risk_objects", "risk_units", "risk_events", "control_measures", "check_tasks", "check_records"]}
for e in enterprises:
    obj = next_id()
    rows["risk_objects"].append([obj, e, "production_unit", "基准装置", None, creator, stamp])
    for u in range(UNITS):
        unit, event, measure = next_id(), next_id(), next_id()
        level = levels[u % 4]
        l, s = ls[level]
        rows["risk_units"].append([unit, obj, e, f"单元{u}", "生产部", "王工", creator, stamp])
        rows["risk_events"].append([
            event, unit, e, f"事件{u}", None, json.dumps({"method": "ls", "l": l, "s": s}),
            l * s * 100, level, creator, stamp,
        ])
        rows["control_measures"].append([
            measure, event, e, f"措施{u}", "engineering.safety_instrument", "check", "检查联锁投用", creator, stamp,
        ])
        for name, every, unit_name, first in [("日检", 24, "day", 8), ("班检", 8, "hour", 0)]:
            task = next_id()
            spec = {"every": 1 if unit_name == "day" else every, "unit": unit_name,
                    "starts": (year_start + dt.timedelta(hours=first)).strftime("%Y-%m-%dT%H:%M:%S")}
            rows["check_tasks"].append([
                task, measure, unit, e, name, "post_check", "enterprise", None, json.dumps(spec),
                "true", creator, stamp,
            ])
            k = 0
            while True:
                start = year_start + dt.timedelta(hours=first + k * every)
                if start + dt.timedelta(hours=1) > now_local:
                    break
                if (k + u) % 20 != 0 and start >= records_from:
                    checked = (start + dt.timedelta(minutes=30) - TZ).strftime("%Y-%m-%d %H:%M:%S")
                    rows["check_records"].append([
                        next_id(), task, e, k, "normal", None, checked, checked, "false", None, creator, None,
                    ])
                k += 1

columns = {
    "risk_objects": "id, enterprise_id, kind, name, major_source_code, created_by, created_at",
    "risk_units": "id, object_id, enterprise_id, name, department, responsible_person, created_by, created_at",
    "risk_events": "id, unit_id, enterprise_id, name, consequence, assessment, score_centi, level, created_by, created_at",
    "control_measures": "id, event_id, enterprise_id, description, classification, control_mode, check_content, created_by, created_at",
    "check_tasks": "id, measure_id, unit_id, enterprise_id, name, kind, assignee_role, assignee_user_id, schedule, active, created_by, created_at",
    "check_records": "id, task_id, enterprise_id, occurrence, outcome, note, checked_at, recorded_at, entered_late, hazard_id, recorded_by, failed_items",
}
if backend == "sqlite":
    import sqlite3

    with sqlite3.connect(target) as db:
        for table, cols in columns.items():
            values = [[{"true": 1, "false": 0}.get(v, v) if isinstance(v, str) else v for v in r] for r in rows[table]]
            marks = ", ".join("?" * len(cols.split(",")))
            db.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", values)
else:
    with tempfile.TemporaryDirectory() as work:
        for table, cols in columns.items():
            path = os.path.join(work, f"{table}.csv")
            with open(path, "w", newline="") as f:
                csv.writer(f).writerows([["" if v is None else v for v in r] for r in rows[table]])
            subprocess.run(["psql", target, "-qc", f"\\copy {table} ({cols}) FROM '{path}' CSV"], check=True)
print(", ".join(f"{len(v)} {k}" for k, v in rows.items()))
