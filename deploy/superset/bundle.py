#!/usr/bin/env python3
"""Builds the Chirpstream dashboard's Superset import bundle from the YAML sources in dashboard/.

The sources hold only what is Chirpstream's own (SQL, columns, metrics, chart settings, a compact
layout); this script checks that they refer to each other correctly, adds the fields Superset's
import format requires, puts the database URI (with its password) in, and writes the zip that
`superset import-dashboards -p` reads. Used by the Superset image at start and by the dashboard
test, so both import the same bundle.

    bundle.py [--source DIR] [--database-uri URI] [--output FILE]   # write the bundle
    bundle.py --check [--source DIR]                                  # only check the sources
"""
import argparse
import copy
import json
import os
import sys
import zipfile

import yaml

VERSION = "1.0.0"
ROOT = "chirpstream_dashboard"

DATABASE_DEFAULTS = {
    "cache_timeout": None,
    "expose_in_sqllab": True,
    "allow_run_async": False,
    "allow_ctas": False,
    "allow_cvas": False,
    "allow_dml": False,
    "allow_file_upload": False,
    "extra": {},
}
DATASET_DEFAULTS = {
    "main_dttm_col": None,
    "description": None,
    "default_endpoint": None,
    "offset": 0,
    "cache_timeout": None,
    "schema": "public",
    "catalog": None,
    "params": None,
    "template_params": None,
    "filter_select_enabled": True,
    "fetch_values_predicate": None,
    "extra": None,
    "normalize_columns": False,
    "always_filter_main_dttm": False,
}
COLUMN_DEFAULTS = {
    "verbose_name": None,
    "is_dttm": False,
    "is_active": True,
    "advanced_data_type": None,
    "groupby": True,
    "filterable": True,
    "expression": None,
    "description": None,
    "python_date_format": None,
    "extra": {},
}
METRIC_DEFAULTS = {
    "verbose_name": None,
    "metric_type": None,
    "description": None,
    "d3format": None,
    "currency": None,
    "extra": {},
    "warning_text": None,
}
CHART_DEFAULTS = {
    "description": None,
    "certified_by": None,
    "certification_details": None,
    "cache_timeout": None,
    "query_context": None,
}


class SourceError(Exception):
    pass


def load_yaml(path):
    try:
        with open(path, encoding="utf-8") as handle:
            value = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        raise SourceError(f"{path}: {error}") from error
    if not isinstance(value, dict):
        raise SourceError(f"{path}: expected a mapping at the top level")
    return value


def require(doc, path, *keys):
    missing = [key for key in keys if doc.get(key) in (None, "")]
    if missing:
        raise SourceError(f"{path}: missing {', '.join(missing)}")


def yaml_files(folder):
    if not os.path.isdir(folder):
        raise SourceError(f"{folder}: folder missing")
    return sorted(
        os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".yaml")
    )


def with_defaults(defaults, doc):
    merged = copy.deepcopy(defaults)
    merged.update(doc)
    return merged


def build(source, database_uri=None):
    """Returns {path inside the zip: document} for the whole bundle, or raises SourceError."""
    files = {}
    metadata = load_yaml(os.path.join(source, "metadata.yaml"))
    if metadata.get("type") != "Dashboard":
        raise SourceError("metadata.yaml: type must be Dashboard")
    files["metadata.yaml"] = {"version": VERSION, "type": "Dashboard", **metadata}

    database_paths = yaml_files(os.path.join(source, "databases"))
    if len(database_paths) != 1:
        raise SourceError("databases/: exactly one database file expected")
    database = load_yaml(database_paths[0])
    require(database, database_paths[0], "database_name", "sqlalchemy_uri", "uuid")
    database = with_defaults(DATABASE_DEFAULTS, database)
    if database_uri:
        database["sqlalchemy_uri"] = database_uri
    database["version"] = VERSION
    files[f"databases/{database['database_name']}.yaml"] = database

    datasets = {}
    dataset_folder = os.path.join(source, "datasets", database["database_name"])
    for path in yaml_files(dataset_folder):
        doc = load_yaml(path)
        require(doc, path, "table_name", "uuid", "sql", "columns", "metrics")
        name = doc["table_name"]
        if name in datasets:
            raise SourceError(f"{path}: dataset {name} defined twice")
        column_names = set()
        columns = []
        for column in doc["columns"]:
            require(column, f"{path} column", "column_name", "type")
            column_names.add(column["column_name"])
            columns.append(with_defaults(COLUMN_DEFAULTS, column))
        if doc.get("main_dttm_col") and doc["main_dttm_col"] not in column_names:
            raise SourceError(f"{path}: main_dttm_col {doc['main_dttm_col']} is not a column")
        metrics = []
        for metric in doc["metrics"]:
            require(metric, f"{path} metric", "metric_name", "expression")
            metrics.append(with_defaults(METRIC_DEFAULTS, metric))
        dataset = with_defaults(DATASET_DEFAULTS, doc)
        dataset.update(
            columns=columns, metrics=metrics, version=VERSION, database_uuid=database["uuid"]
        )
        datasets[name] = dataset
        files[f"datasets/{database['database_name']}/{name}.yaml"] = dataset

    charts = {}
    for path in yaml_files(os.path.join(source, "charts")):
        doc = load_yaml(path)
        require(doc, path, "slice_name", "uuid", "dataset", "params")
        dataset = datasets.get(doc["dataset"])
        if dataset is None:
            raise SourceError(f"{path}: unknown dataset {doc['dataset']}")
        params = dict(doc["params"])
        require(params, f"{path} params", "viz_type")
        known = {c["column_name"] for c in dataset["columns"]}
        known_metrics = {m["metric_name"] for m in dataset["metrics"]}
        for key in ("x_axis", "groupby", "all_columns"):
            value = params.get(key)
            for column in value if isinstance(value, list) else [value] if value else []:
                if column not in known:
                    raise SourceError(f"{path}: {key} {column} is not a column of {dataset['table_name']}")
        for key in ("metric", "metrics"):
            value = params.get(key)
            for metric in value if isinstance(value, list) else [value] if value else []:
                if isinstance(metric, str) and metric not in known_metrics:
                    raise SourceError(f"{path}: {key} {metric} is not a metric of {dataset['table_name']}")
        chart = with_defaults(CHART_DEFAULTS, {k: v for k, v in doc.items() if k != "dataset"})
        chart.update(
            viz_type=params["viz_type"], params=params, dataset_uuid=dataset["uuid"], version=VERSION
        )
        name = os.path.splitext(os.path.basename(path))[0]
        charts[name] = chart
        files[f"charts/{name}.yaml"] = chart

    dashboard_paths = yaml_files(os.path.join(source, "dashboards"))
    if len(dashboard_paths) != 1:
        raise SourceError("dashboards/: exactly one dashboard file expected")
    path = dashboard_paths[0]
    doc = load_yaml(path)
    require(doc, path, "dashboard_title", "slug", "uuid", "layout")
    position, placed = layout_tree(doc, charts, path)
    unplaced = sorted(set(charts) - placed)
    if unplaced:
        raise SourceError(f"{path}: charts not in the layout: {', '.join(unplaced)}")
    files[f"dashboards/{doc['slug']}.yaml"] = {
        "dashboard_title": doc["dashboard_title"],
        "description": doc.get("description"),
        "css": "",
        "slug": doc["slug"],
        "uuid": doc["uuid"],
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "position": position,
        "metadata": {
            "refresh_frequency": int(doc.get("refresh_seconds", 0)),
            "timed_refresh_immune_slices": [],
            "expanded_slices": {},
            "default_filters": "{}",
            "color_scheme": "supersetColors",
            "label_colors": {},
            "shared_label_colors": [],
            "color_scheme_domain": [],
            "cross_filters_enabled": False,
            "native_filter_configuration": [],
        },
        "version": VERSION,
    }
    return files


def layout_tree(doc, charts, path):
    """Superset's position tree from rows of {chart, width, height}."""
    position = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": doc["dashboard_title"]}},
    }
    placed = set()
    for row_number, row in enumerate(doc["layout"], start=1):
        row_id = f"ROW-{row_number}"
        if not isinstance(row, list) or not row:
            raise SourceError(f"{path}: layout row {row_number} must be a non-empty list")
        if sum(int(entry.get("width", 0)) for entry in row) > 12:
            raise SourceError(f"{path}: layout row {row_number} is wider than 12 columns")
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for entry in row:
            name = entry.get("chart")
            chart = charts.get(name)
            if chart is None:
                raise SourceError(f"{path}: layout names unknown chart {name}")
            if name in placed:
                raise SourceError(f"{path}: chart {name} placed twice")
            placed.add(name)
            chart_id = f"CHART-{name}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART",
                "id": chart_id,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {
                    "width": int(entry["width"]),
                    "height": int(entry["height"]),
                    "chartId": len(placed),
                    "uuid": chart["uuid"],
                    "sliceName": chart["slice_name"],
                },
            }
    return position, placed


def write_zip(files, output):
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, doc in sorted(files.items()):
            text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
            archive.writestr(f"{ROOT}/{name}", text)


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=os.path.join(here, "dashboard"))
    parser.add_argument("--database-uri", default=os.environ.get("CHIRP_DATABASE_URI"))
    parser.add_argument("--output", default="chirpstream-dashboard.zip")
    parser.add_argument("--check", action="store_true", help="only check the sources")
    args = parser.parse_args(argv)
    try:
        files = build(args.source, args.database_uri)
    except SourceError as error:
        print(f"bundle: {error}", file=sys.stderr)
        return 1
    if args.check:
        charts = sum(1 for name in files if name.startswith("charts/"))
        print(f"bundle: sources ok ({charts} charts)")
        return 0
    write_zip(files, args.output)
    print(f"bundle: wrote {args.output} ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
