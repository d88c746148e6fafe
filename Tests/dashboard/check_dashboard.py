#!/usr/bin/env python3
"""Checks the provisioned Chirpstream dashboard against PostgreSQL (run by scripts/dashboard-test.sh).

For every chart of the dashboard it asks Superset's chart-data API for the chart's numbers, built
from the chart's saved settings the way the dashboard's front end builds its queries, and compares
them with the same figures computed here by separate SQL on the Chirpstream tables (from the facts,
where the dashboard reads rollups). Then it checks what a visitor who has not logged in gets:
with ACCESS private (the default deployment) nothing, not even the dashboard's chart list; with
public the dashboard and its numbers, and nothing else (no database list, no SQL Lab, no
writing). Every answer carries the security headers. With OLD_PASSWORD, the admin's previous
password must no longer log in (the password is set from its secret at every start).

    check_dashboard.py api SUPERSET_URL POSTGRES_URL ADMIN_USER ADMIN_PASSWORD ACCESS [OLD_PASSWORD]
    check_dashboard.py dom FILE      # the dashboard's page as headless Chromium rendered it
    check_dashboard.py login FILE    # the page a visitor who has not logged in was given

The second form checks what a person sees: every chart drew its visualisation and none shows an
error box; the third that it is the login form and no chart. Exit status 0 when every check
passed; each check prints one line.
"""
import collections
import datetime
import json
import os
import sys

import psycopg2
import requests

EXPECTED_CHARTS = {
    "Tweets per minute by category",
    "Top 10 hashtags in the last hour",
    "The last 24 hours, hour by hour",
    "Tweets by language",
    "Latest categorized tweets",
    "Tweets stored",
    "Tweets in the last hour",
    "Distinct hashtags in the last hour",
}

failures = []
# Hours with data the hour-by-hour chart must show at least (a replay restamped to now fills one).
MIN_HOURS = int(os.environ.get("CHIRP_DASHBOARD_MIN_HOURS", "2"))


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")
    if not ok:
        failures.append(name)


def base_axis(form):
    axis = {"columnType": "BASE_AXIS", "expressionType": "SQL",
            "sqlExpression": form["x_axis"], "label": form["x_axis"]}
    if form.get("time_grain_sqla"):
        axis["timeGrain"] = form["time_grain_sqla"]
    return axis


def as_list(value):
    return value if isinstance(value, list) else [value] if value else []


def query_for(form):
    """The query object the dashboard's front end sends for this chart (buildQuery), minus the
    post-processing that only reshapes rows for drawing."""
    viz = form["viz_type"]
    query = {"filters": [], "extras": {"having": "", "where": ""}, "time_range": form.get("time_range"),
             "row_limit": form.get("row_limit") or 10000, "order_desc": True, "orderby": []}
    if viz in ("echarts_timeseries_line", "echarts_timeseries_bar"):
        query["columns"] = [base_axis(form)] + as_list(form.get("groupby"))
        query["metrics"] = form["metrics"]
    elif viz == "heatmap_v2":
        query["columns"] = [base_axis(form)] + as_list(form.get("groupby"))
        query["metrics"] = [form["metric"]]
    elif viz == "pie":
        query["columns"] = as_list(form["groupby"])
        query["metrics"] = [form["metric"]]
    elif viz == "table" and form.get("query_mode") == "raw":
        query["columns"] = form["all_columns"]
        query["metrics"] = None  # raw rows: no GROUP BY
        query["orderby"] = [json.loads(order) for order in form.get("order_by_cols") or []]
    elif viz == "big_number_total":
        query["columns"] = []
        query["metrics"] = [form["metric"]]
    else:
        raise ValueError(f"no query builder for viz type {viz}")
    return query


def chart_rows(session, url, chart):
    form = chart["form_data"]
    datasource_id = int(str(form["datasource"]).split("__")[0])
    payload = {"datasource": {"id": datasource_id, "type": "table"}, "queries": [query_for(form)],
               "form_data": form, "result_format": "json", "result_type": "full", "force": True}
    response = session.post(f"{url}/api/v1/chart/data", json=payload, timeout=60)
    if response.status_code != 200:
        raise RuntimeError(f"chart-data {response.status_code}: {response.text[:300]}")
    result = response.json()["result"][0]
    if result.get("error"):
        raise RuntimeError(result["error"])
    return result["data"]


def epoch_ms(moment):
    return int(moment.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000) if moment.tzinfo is None \
        else int(moment.timestamp() * 1000)


def main(superset_url, postgres_url, user, password, access, old_password=None):
    db = psycopg2.connect(postgres_url)
    db.autocommit = True
    cursor = db.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")

    def sql(text, *args):
        cursor.execute(text, args)
        return cursor.fetchall()

    # Data must be there, else every comparison would be trivially true.
    stored = sql("SELECT count(*) FROM tweets")[0][0]
    check("the test loaded tweets", stored > 0, "tweets table is empty")

    session = requests.Session()
    token = session.post(f"{superset_url}/api/v1/security/login", json={
        "username": user, "password": password, "provider": "db", "refresh": False}, timeout=30)
    check("admin logs in through the API", token.status_code == 200, token.text[:200])
    if old_password:
        old = requests.post(f"{superset_url}/api/v1/security/login", json={
            "username": user, "password": old_password, "provider": "db", "refresh": False}, timeout=30)
        check("the admin's previous password no longer logs in", old.status_code == 401, str(old.status_code))
    headers = requests.get(f"{superset_url}/login/", timeout=30).headers
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        check(f"security header {header}", header in headers, ", ".join(sorted(headers)))
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    csrf = session.get(f"{superset_url}/api/v1/security/csrf_token/", timeout=30).json()["result"]
    session.headers.update({"X-CSRFToken": csrf, "Referer": superset_url})

    dashboard = session.get(f"{superset_url}/api/v1/dashboard/chirpstream", timeout=30).json()["result"]
    metadata = json.loads(dashboard["json_metadata"])
    check("dashboard refreshes every 10 s", metadata.get("refresh_frequency") == 10, str(metadata.get("refresh_frequency")))
    check("dashboard is published", dashboard.get("published") is True)
    charts = session.get(f"{superset_url}/api/v1/dashboard/chirpstream/charts", timeout=30).json()["result"]
    by_name = {chart["slice_name"]: chart for chart in charts}
    check("dashboard has every chart", set(by_name) == EXPECTED_CHARTS,
          f"got {sorted(by_name)}")

    databases = session.get(f"{superset_url}/api/v1/database/", timeout=30).json()["result"]
    chirp_db = [d for d in databases if d["database_name"] == "Chirpstream"]
    check("database entry Chirpstream exists", len(chirp_db) == 1)
    if chirp_db:
        detail = session.get(f"{superset_url}/api/v1/database/{chirp_db[0]['id']}/connection", timeout=30).json()["result"]
        check("dashboards read through the read-only role",
              "//chirp_reader" in detail.get("sqlalchemy_uri", ""), detail.get("sqlalchemy_uri", ""))

    # The moment of the comparison: the data is static once the replay is loaded, and the test's
    # tweets lie well inside the windows, so "now" moving by a second changes nothing.
    now = sql("SELECT now()")[0][0]
    minute_start = now.replace(second=0, microsecond=0) - datetime.timedelta(minutes=59)
    hour_start = now.replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=23)
    last_hour = now - datetime.timedelta(hours=1)
    # The last hour's hashtag occurrences: uses per key and the display form the chart shows
    # (the smallest; the generated tweets give each tag one form, so the dataset's min(tag) over
    # its rollup rows and partial minutes is the facts' too).
    last_hour_uses = collections.Counter()
    display = {}
    for key, tag in sql("SELECT tag_key, tag FROM tweet_hashtags WHERE created_at >= %s AND created_at < %s", last_hour, now):
        last_hour_uses[key] += 1
        display[key] = min(display.get(key, tag), tag)

    def rows_of(name):
        try:
            return chart_rows(session, superset_url, by_name[name])
        except Exception as error:  # noqa: BLE001 - reported as the check's failure
            check(f"{name}: chart-data answers", False, str(error))
            return None

    # Tweets per minute by category, from the tweets themselves (the chart reads the rollup).
    rows = rows_of("Tweets per minute by category")
    if rows is not None:
        expected = collections.Counter()
        for minute, categories in sql(
                "SELECT date_trunc('minute', created_at), categories FROM tweets WHERE created_at >= %s", minute_start):
            for category in categories:
                expected[(epoch_ms(minute), category)] += 1
        got = {(row["minute"], row["category"]): row["tweets"] for row in rows}
        check(f"Tweets per minute by category: {len(expected)} minute×category counts equal the facts",
              got == dict(expected) and len(expected) > 0, f"{len(got)} vs {len(expected)} cells")

    # Top 10 hashtags of the last hour.
    rows = rows_of("Top 10 hashtags in the last hour")
    if rows is not None:
        top = sorted(last_hour_uses.items(), key=lambda item: (-item[1], item[0]))[:10]
        expected = {"#" + display[key]: count for key, count in top}
        got = {row["hashtag"]: row["tweets"] for row in rows}
        check("Top 10 hashtags in the last hour: tags and counts equal the facts",
              len(rows) == 10 and got == expected, f"{got} vs {expected}")

    # Hour by hour: each hour's top 10.
    rows = rows_of("The last 24 hours, hour by hour")
    if rows is not None:
        per_hour = collections.defaultdict(collections.Counter)
        for hour, key in sql(
                "SELECT date_trunc('hour', created_at), tag_key FROM tweet_hashtags WHERE created_at >= %s", hour_start):
            per_hour[epoch_ms(hour)][key] += 1
        # The display form each hour's rollup row keeps.
        hour_display = {(epoch_ms(hour), key): tag for hour, key, tag in sql(
            "SELECT hour, tag_key, tag FROM hashtag_counts_hourly WHERE hour >= %s", hour_start)}
        expected = {}
        for hour, counts in per_hour.items():
            for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]:
                expected[(hour, "#" + hour_display.get((hour, key), "?"))] = count
        got = {(row["hour"], row["hashtag"]): row["tweets"] for row in rows}
        check(f"The last 24 hours, hour by hour: {len(per_hour)} hours' top 10 equal the facts",
              got == expected and len(per_hour) >= MIN_HOURS, f"{len(got)} vs {len(expected)} cells")

    # Languages.
    rows = rows_of("Tweets by language")
    if rows is not None:
        expected = dict(sql("SELECT lang, count(*) FROM tweets WHERE created_at >= %s GROUP BY lang", hour_start))
        got = {row["lang"]: row["tweets"] for row in rows}
        check(f"Tweets by language: {len(expected)} languages equal the facts", got == expected and len(expected) > 1,
              f"{got} vs {expected}")

    # Latest tweets: the 50 loaded last.
    rows = rows_of("Latest categorized tweets")
    if rows is not None:
        expected = sql("SELECT author, text, array_to_string(categories, ', ') FROM tweets ORDER BY loaded_at DESC, id DESC LIMIT 50")
        got = [(row["author"], row["text"], row["categories"]) for row in rows]
        check("Latest categorized tweets: the 50 tweets loaded last, in order", got == [tuple(r) for r in expected],
              f"{len(got)} rows")

    # Totals.
    totals = {
        "Tweets stored": stored,
        "Tweets in the last hour": sql("SELECT count(*) FROM tweets WHERE created_at >= %s AND created_at < %s", last_hour, now)[0][0],
        "Distinct hashtags in the last hour": len(last_hour_uses),
    }
    for name, expected in totals.items():
        rows = rows_of(name)
        if rows is not None:
            got = list(rows[0].values())[0] if rows else None
            check(f"{name}: {expected}", got == expected, f"chart says {got}")

    anonymous = requests.Session()
    if access == "private":
        # Nothing without a login: not the charts' list, not their data, not the page.
        listing = anonymous.get(f"{superset_url}/api/v1/dashboard/chirpstream/charts", timeout=30)
        check("without a login, the dashboard's charts are refused", listing.status_code in (401, 403), str(listing.status_code))
        data = anonymous.post(f"{superset_url}/api/v1/chart/data", json={"datasource": {"id": 1, "type": "table"},
                                                                         "queries": [{"columns": [], "metrics": ["count"]}]}, timeout=30)
        check("without a login, chart data is refused", data.status_code in (400, 401, 403), str(data.status_code))
        page = anonymous.get(f"{superset_url}/superset/dashboard/chirpstream/", timeout=30, allow_redirects=False)
        check("without a login, the dashboard's page sends to the login", page.status_code in (302, 303) and "/login" in page.headers.get("Location", ""),
              f"{page.status_code} {page.headers.get('Location')}")
    else:
        # The dashboard and its data, and nothing else, read-only.
        listing = anonymous.get(f"{superset_url}/api/v1/dashboard/chirpstream/charts", timeout=30)
        check("an anonymous visitor may read the dashboard", listing.status_code == 200, str(listing.status_code))
        try:
            anonymous_rows = chart_rows(anonymous, superset_url, by_name["Tweets stored"])
            check("an anonymous visitor gets the numbers", list(anonymous_rows[0].values())[0] == stored)
        except Exception as error:  # noqa: BLE001
            check("an anonymous visitor gets the numbers", False, str(error))
        for what, path in (("the database list", "/api/v1/database/"), ("the user list", "/api/v1/security/users/"),
                           ("SQL Lab", "/api/v1/sqllab/"), ("saved queries", "/api/v1/saved_query/")):
            refused = anonymous.get(f"{superset_url}{path}", timeout=30)
            check(f"an anonymous visitor cannot read {what}", refused.status_code in (401, 403, 404), str(refused.status_code))
        edit = anonymous.put(f"{superset_url}/api/v1/dashboard/{dashboard['id']}", json={"dashboard_title": "x"}, timeout=30)
        title = session.get(f"{superset_url}/api/v1/dashboard/chirpstream", timeout=30).json()["result"]["dashboard_title"]
        check("an anonymous visitor cannot edit the dashboard", edit.status_code in (400, 401, 403) and title == "Chirpstream",
              f"{edit.status_code}, title {title}")

    print(f"{len(failures)} check(s) failed" if failures else "dashboard: every check passed")
    return 1 if failures else 0


# What each chart draws, as a class in the rendered page, and how many such charts there are.
RENDERED_MARKERS = {
    'class="echarts_timeseries_line"': 1,
    'class="echarts_timeseries_bar"': 1,
    'class="heatmap_v_2"': 1,
    'class="pie"': 1,
    'class="superset-chart-table"': 1,
    "superset-legacy-chart-big-number": 3,
}


def check_dom(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        page = handle.read()
    containers = page.count('data-test="chart-container"')
    check(f"the page holds {len(EXPECTED_CHARTS)} rendered charts", containers == len(EXPECTED_CHARTS),
          f"{containers} chart containers")
    for marker, count in RENDERED_MARKERS.items():
        check(f"rendered: {marker} ×{count}", page.count(marker) == count, f"found {page.count(marker)}")
    errors = page.count("ant-alert-error")
    check("no chart shows an error box", errors == 0, f"{errors} error boxes")
    for title in sorted(EXPECTED_CHARTS):
        check(f"title shown: {title}", f">{title}<" in page)
    print(f"{len(failures)} check(s) failed" if failures else "page: every check passed")
    return 1 if failures else 0


def check_login(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        page = handle.read()
    check("the visitor was given the login form", 'type="password"' in page, f"{len(page)} bytes")
    containers = page.count('data-test="chart-container"')
    check("and no chart", containers == 0, f"{containers} chart containers")
    print(f"{len(failures)} check(s) failed" if failures else "login: every check passed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) in (7, 8) and sys.argv[1] == "api" and sys.argv[6] in ("private", "public"):
        sys.exit(main(*sys.argv[2:]))
    if len(sys.argv) == 3 and sys.argv[1] == "login":
        sys.exit(check_login(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "dom":
        sys.exit(check_dom(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    sys.exit(64)
