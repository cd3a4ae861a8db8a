"""Metric names in PromQL expressions, and metric families in an exposition.

Not a PromQL parser (promtool parses; see check_queries.py): it removes what cannot be a
metric name (strings, label matchers, range and subquery brackets, label lists after
by/without/on/ignoring/group_left/group_right, offset and @ modifiers, numbers, Grafana
variables), then keeps every identifier that is neither a keyword nor a function or
aggregation call (an identifier followed by "(").
"""
import re

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Series Prometheus itself adds to every target.
PROMETHEUS_SERIES = {"up"}

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]")
_MATCHERS = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)",
                         re.IGNORECASE)
_OFFSET = re.compile(r"\boffset\s+-?[0-9a-zA-Z]+", re.IGNORECASE)
_AT = re.compile(r"@\s*(?:start\s*\(\s*\)|end\s*\(\s*\)|[0-9.]+)")
_TOKEN = re.compile(
    r"(?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[a-zA-Z]*)"
    r"|(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<call>\s*\()?"
    r"|(?P<other>\S)")


def metric_names(expr):
    """The metric names an expression selects, in order of first appearance."""
    s = _STRING.sub('""', expr)
    s = _GRAFANA_VARIABLE.sub(" ", s)
    s = _MATCHERS.sub(" ", s)
    s = _BRACKETS.sub(" ", s)
    s = _LABEL_LIST.sub(" ", s)
    s = _OFFSET.sub(" ", s)
    s = _AT.sub(" ", s)
    names = []
    for m in _TOKEN.finditer(s):
        name = m.group("name")
        if name is None or m.group("call") is not None or name.lower() in KEYWORDS:
            continue
        if name not in names:
            names.append(name)
    return names


def exported_families(exposition):
    """{family: type} from the '# TYPE name type' lines of a Prometheus text exposition."""
    families = {}
    for line in exposition.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "#" and parts[1] == "TYPE":
            families[parts[2]] = parts[3]
    return families


def family_of(name, families):
    """The exported family a series name belongs to (histogram/summary suffixes mapped to
    their family), or None."""
    if name in families:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and families.get(base) in ("histogram", "summary"):
            return base
    return None


def grafana_to_promql(expr):
    """A Grafana query with its variables replaced so that promtool can parse it."""
    s = re.sub(r"\$\{?__(?:rate_interval|interval|range)\}?", "5m", expr)
    return _GRAFANA_VARIABLE.sub("x", s)
