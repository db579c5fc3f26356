"""Reading Dockerfiles: lines, forms, flags, variables and quotes, and .dockerignore patterns."""

from __future__ import annotations

import pytest

from minikube_py.runtime.images.buildcontext import Ignore
from minikube_py.runtime.images.dockerfile import DockerfileError, parse
from minikube_py.runtime.images.substitution import (
    SubstitutionError,
    expand,
    pairs,
    split_words,
)

DOCKERFILE = """\
# syntax=docker/dockerfile:1
# escape=\\
ARG BASE=python
FROM ${BASE}:3.11 AS build
run apt-get update && \\
    # a comment inside a continuation is dropped
    apt-get install -y curl

COPY --from=build --chown=1000:1000 ["a b.txt", "/dst/"]
CMD ["python3", "app.py"]
ENTRYPOINT exec server --port 80
CMD [not json
"""


def test_instructions_lines_forms_and_flags() -> None:
    instructions = parse(DOCKERFILE)
    assert [(i.line, i.keyword) for i in instructions] == [
        (3, "ARG"),
        (4, "FROM"),
        (5, "RUN"),
        (9, "COPY"),
        (10, "CMD"),
        (11, "ENTRYPOINT"),
        (12, "CMD"),
    ]
    run = instructions[2]
    # the backslash and line break vanish; the next line's indentation stays
    assert run.text == "apt-get update &&     apt-get install -y curl"
    assert run.exec_form is None
    copy = instructions[3]
    assert copy.flags == {"from": "build", "chown": "1000:1000"}
    assert copy.exec_form == ["a b.txt", "/dst/"]
    assert instructions[4].exec_form == ["python3", "app.py"]
    assert instructions[5].exec_form is None
    assert instructions[6].exec_form is None  # not JSON: the shell form, brackets and all
    assert instructions[6].text == "[not json"


def test_malformed_dockerfiles_name_the_line() -> None:
    with pytest.raises(DockerfileError, match="Dockerfile:2: unknown instruction: 1NVALID"):
        parse("FROM scratch\n1NVALID x\n")
    with pytest.raises(DockerfileError, match="cannot be empty"):
        parse("# only a comment\n\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$NAME", "value"),
        ("${NAME}-x", "value-x"),
        ("${UNSET:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY-fallback}", ""),  # without the colon only "unset" counts
        ("${NAME:+set}", "set"),
        ("${EMPTY:+set}", ""),
        ("${EMPTY+set}", "set"),
        ("${UNSET:-${NAME}}", "value"),
        ("'$NAME'", "$NAME"),  # single quotes keep it literal
        ('"$NAME and \\$NAME"', "value and $NAME"),
        ("\\$NAME", "$NAME"),
        ("a\\ b", "a b"),
        ("cost: $", "cost: $"),
    ],
)
def test_variables_as_docker_replaces_them(text: str, expected: str) -> None:
    assert expand(text, {"NAME": "value", "EMPTY": ""}) == expected


def test_substitution_errors() -> None:
    with pytest.raises(SubstitutionError, match="NAME: must be set"):
        expand("${NAME:?must be set}", {})
    with pytest.raises(SubstitutionError, match="unsupported modifier"):
        expand("${NAME/x/y}", {})


def test_env_pairs_both_forms() -> None:
    assert split_words('a="x y" b=z') == ['a="x y"', "b=z"]
    assert pairs('A="one two" B=${A}', {"A": "old"}, "ENV") == [("A", "one two"), ("B", "old")]
    # the legacy form: one name, the rest of the line is the value
    assert pairs("GREETING hello  world", {}, "ENV") == [("GREETING", "hello  world")]


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("secret.txt", True),
        ("logs/today.log", True),
        ("deep/er/x.pyc", True),
        ("x.pyc", True),
        ("keep.pyc", False),  # re-included by the later `!` line
        ("node_modules/pkg/index.js", True),  # a matched directory hides what is under it
        ("src/main.py", False),
        ("build/a.txt", True),  # a leading slash means the context's root
        ("src/build/a.txt", False),
        ("data1.csv", True),
        ("data10.csv", False),
    ],
)
def test_dockerignore_patterns(path: str, excluded: bool) -> None:
    ignore = Ignore(
        [
            "# comment",
            "secret.txt",
            "*/*.log",
            "**/*.pyc",
            "!keep.pyc",
            "node_modules",
            "/build",
            "data?.csv",
            "",
        ]
    )
    assert ignore.excluded(path) is excluded
