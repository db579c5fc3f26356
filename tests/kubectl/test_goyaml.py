"""``-o yaml`` as kubectl writes it (go-yaml's choices), checked against what the real kubectl
1.32 printed for the same values."""

from __future__ import annotations

from minikube_py.kubectl.goyaml import yaml_text


def test_strings_are_quoted_only_where_go_yaml_quotes_them() -> None:
    values = {
        "plain": "héllo <b>&",
        "number": "12",
        "boolean": "true",
        "yes_no": "y",
        "exponent": "1e3",
        "octal": "0o17",
        "empty": "",
        "timestamp": "2026-11-27T15:51:47Z",
        "colon": "x: y",
        "leading": " sp",
        "lines": "a\nb",
    }
    assert yaml_text(values) == (
        'boolean: "true"\n'
        "colon: 'x: y'\n"
        'empty: ""\n'
        'exponent: "1e3"\n'
        "leading: ' sp'\n"
        "lines: |-\n  a\n  b\n"
        'number: "12"\n'
        'octal: "0o17"\n'
        "plain: héllo <b>&\n"
        'timestamp: "2026-11-27T15:51:47Z"\n'
        'yes_no: "y"\n'
    )


def test_keys_sort_naturally_and_sequences_sit_under_their_key() -> None:
    obj = {"e10": 1, "e2": [{"b": 1, "a": None}], "e1": {}, "a-b": True, "aZ": [], "ab": 1.5}
    assert yaml_text(obj) == (
        "a-b: true\naZ: []\nab: 1.5\ne1: {}\ne2:\n- a: null\n  b: 1\ne10: 1\n"
    )


def test_long_strings_fold_at_eighty_columns() -> None:
    text = yaml_text({"metadata": {"annotations": {"long": " ".join(["word"] * 40)}}})
    assert text.splitlines()[2:] == [  # as kubectl printed this annotation
        "    long: " + " ".join(["word"] * 15),
        "      " + " ".join(["word"] * 16),
        "      " + " ".join(["word"] * 9),
    ]
