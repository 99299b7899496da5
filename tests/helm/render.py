"""Render a Helm chart offline with Helm's own Go SDK (helm-python-sdk, which binds
libhelm_c) and write each template's output to OUT/<template path>.

    python render.py CHART_DIR OUT_DIR [VALUES.yaml]

VALUES (YAML or JSON, e.g. a chart's `ci/*-values.yaml`, parsed by Helm's own values
reader) is merged over the chart's values.yaml, as `helm template -f` does.

Used by tests/helm_render.rs to check that a chart kubemig fixed still renders, and renders
what kubemig would make of the chart's rendered output.
"""

import os
import sys

import helm_python as helm


def main() -> None:
    chart_dir, out_dir = sys.argv[1], sys.argv[2]
    values = None
    if len(sys.argv) > 3:
        with open(sys.argv[3], encoding="utf-8") as f:
            values = helm.values_from_yaml(f.read())
    chart = helm.Chart.load(chart_dir)
    rendered = chart.render(values, name="rel", namespace="shop", is_install=True)
    for path, text in sorted(rendered.items()):
        if os.path.basename(path).startswith("_") or not path.endswith((".yaml", ".yml")):
            continue
        target = os.path.join(out_dir, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
    print(f"rendered {len(rendered)} templates of {chart.name} {chart.version}")


if __name__ == "__main__":
    main()
