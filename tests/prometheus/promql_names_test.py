#!/usr/bin/env python3
"""Unit tests of promql_names.py (python3 -m unittest; run by meson as
promql_names_test)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from promql_names import exported_families, family_of, grafana_to_promql, metric_names  # noqa: E402


class MetricNamesTest(unittest.TestCase):
    def test_plain_and_matchers(self):
        self.assertEqual(metric_names('sluice_backend_up{service="web", backend=~"a|b"} == 0'),
                         ["sluice_backend_up"])

    def test_functions_aggregations_and_label_lists(self):
        expr = ('sum by (service, backend) (rate(sluice_backend_packets_total'
                '{instance=~"$instance"}[$__rate_interval]))')
        self.assertEqual(metric_names(expr), ["sluice_backend_packets_total"])
        self.assertEqual(metric_names("sum(rate(a_total[5m])) without (worker)"), ["a_total"])

    def test_vector_matching(self):
        expr = ("sluice_worker_table_generation < on (job, instance) group_left "
                "sluice_table_generation")
        self.assertEqual(metric_names(expr),
                         ["sluice_worker_table_generation", "sluice_table_generation"])
        expr = "a / ignoring (family) group_right (port) b unless c or d and e"
        self.assertEqual(metric_names(expr), ["a", "b", "c", "d", "e"])

    def test_strings_never_count(self):
        expr = 'label_replace(m, "dst", "not_a_metric", "src", "(.*)")'
        self.assertEqual(metric_names(expr), ["m"])
        self.assertEqual(metric_names("m{a='x{y}', b=\"z\\\"w\"}"), ["m"])

    def test_numbers_durations_modifiers(self):
        expr = ("histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m:30s] offset 1h30m)))"
                " > 1e3 and m @ 1609746000 > 0x1f and n @ end() > Inf")
        self.assertEqual(metric_names(expr), ["h_bucket", "m", "n"])

    def test_bool_and_keywords_are_not_names(self):
        self.assertEqual(metric_names("a > bool 0 or vector(1) and NaN"), ["a"])

    def test_colon_names(self):
        self.assertEqual(metric_names("job:sluice_rx:rate5m"), ["job:sluice_rx:rate5m"])


class FamiliesTest(unittest.TestCase):
    SCRAPE = "\n".join([
        "# HELP sluice_backend_up Backend health.",
        "# TYPE sluice_backend_up gauge",
        'sluice_backend_up{service="web",backend="10.0.0.1:80"} 1',
        "# TYPE sluice_health_check_duration_seconds histogram",
        'sluice_health_check_duration_seconds_bucket{le="+Inf"} 3',
        "# TYPE sluice_drops_total counter",
    ])

    def test_families(self):
        families = exported_families(self.SCRAPE)
        self.assertEqual(families, {"sluice_backend_up": "gauge",
                                    "sluice_health_check_duration_seconds": "histogram",
                                    "sluice_drops_total": "counter"})
        self.assertEqual(family_of("sluice_health_check_duration_seconds_bucket", families),
                         "sluice_health_check_duration_seconds")
        self.assertEqual(family_of("sluice_health_check_duration_seconds_count", families),
                         "sluice_health_check_duration_seconds")
        self.assertEqual(family_of("sluice_drops_total", families), "sluice_drops_total")
        # A suffix only maps for histograms and summaries.
        self.assertIsNone(family_of("sluice_drops_total_count", families))
        self.assertIsNone(family_of("sluice_backend_down", families))


class GrafanaTest(unittest.TestCase):
    def test_variables_replaced(self):
        self.assertEqual(
            grafana_to_promql('rate(m{s=~"$service",i="${instance}"}[$__rate_interval])'),
            'rate(m{s=~"x",i="x"}[5m])')


if __name__ == "__main__":
    unittest.main()
