"""String formats: what a name, a label, a key or a port name may look like.

Kubernetes checks many strings against a handful of shapes taken from DNS and URLs: an RFC 1123
*label* (``web``, at most 63 characters), an RFC 1123 *subdomain* (``web.example``, at most
253), an RFC 1035 label (a label that starts with a letter), a *qualified name* (a label key
such as ``app.kubernetes.io/name``), a label value, a config key, a port name, and a cron
schedule (parsed as ``robfig/cron/v3``'s standard parser does). Each check here
returns upstream's explanation for every rule the string breaks (an empty list when it is
fine), word for word as apimachinery 1.32's ``util/validation`` writes them, regex included,
because that text ends up in what ``kubectl`` prints.
"""

from __future__ import annotations

import ipaddress
import re

from minikube_py.api.validation_causes import byte_len

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = _LABEL + "(\\." + _LABEL + ")*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QNAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"


def _regex_error(message: str, regex: str, *examples: str) -> str:
    # RegexError's odd "',  or '" spacing is what upstream prints.
    shown = "".join(("" if i == 0 else " or ") + f"'{ex}', " for i, ex in enumerate(examples))
    return f"{message} (e.g. {shown}regex used for validation is '{regex}')"


def _max_len(limit: int) -> str:
    return f"must be no more than {limit} characters"


def is_dns1123_label(value: str) -> list[str]:
    errors = [_max_len(63)] if byte_len(value) > 63 else []
    if not re.fullmatch(_LABEL, value):
        if re.fullmatch(_SUBDOMAIN, value):
            errors.append("must not contain dots")
        else:
            errors.append(
                _regex_error(
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                    "or '-', and must start and end with an alphanumeric character",
                    _LABEL,
                    "my-name",
                    "123-abc",
                )
            )
    return errors


def is_dns1123_subdomain(value: str) -> list[str]:
    errors = [_max_len(253)] if byte_len(value) > 253 else []
    if not re.fullmatch(_SUBDOMAIN, value):
        errors.append(
            _regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character",
                _SUBDOMAIN,
                "example.com",
            )
        )
    return errors


def is_dns1035_label(value: str) -> list[str]:
    errors = [_max_len(63)] if byte_len(value) > 63 else []
    if not re.fullmatch(_DNS1035, value):
        errors.append(
            _regex_error(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
                "with an alphabetic character, and end with an alphanumeric character",
                _DNS1035,
                "my-name",
                "abc-123",
            )
        )
    return errors


_QNAME_MESSAGE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character"
)


def is_qualified_name(value: str) -> list[str]:
    """A label key: optional DNS-subdomain prefix and ``/``, then a name of at most 63 bytes."""
    parts = value.split("/")
    errors: list[str] = []
    if len(parts) > 2:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MESSAGE, _QNAME, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        if not parts[0]:
            errors.append("prefix part must be non-empty")
        else:
            errors += ["prefix part " + msg for msg in is_dns1123_subdomain(parts[0])]
    if not name:
        errors.append("name part must be non-empty")
    elif byte_len(name) > 63:
        errors.append("name part " + _max_len(63))
    if not re.fullmatch(_QNAME, name):
        errors.append(
            "name part " + _regex_error(_QNAME_MESSAGE, _QNAME, "MyName", "my.name", "123-abc")
        )
    return errors


def is_label_value(value: str) -> list[str]:
    errors = [_max_len(63)] if byte_len(value) > 63 else []
    if not re.fullmatch(f"({_QNAME})?", value):
        errors.append(
            _regex_error(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', "
                "'_' or '.', and must start and end with an alphanumeric character",
                f"({_QNAME})?",
                "MyValue",
                "my_value",
                "12345",
            )
        )
    return errors


def is_path_segment_name(value: str, prefix: bool = False) -> list[str]:
    """What any name must be to sit in a URL path (``apimachinery/pkg/api/validation/path``)."""
    if not prefix and value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def is_config_map_key(value: str) -> list[str]:
    """A ConfigMap or Secret key: becomes a file name, so no ``..`` tricks."""
    errors = [_max_len(253)] if byte_len(value) > 253 else []
    if not re.fullmatch("[-._a-zA-Z0-9]+", value):
        errors.append(
            _regex_error(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                "[-._a-zA-Z0-9]+",
                "key.name",
                "KEY_NAME",
                "key-name",
            )
        )
    if value == ".":
        errors.append("must not be '.'")
    elif value == "..":
        errors.append("must not be '..'")
    elif value.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def is_port_name(value: str) -> list[str]:
    """An IANA_SVC_NAME: at most 15 of ``[-a-z0-9]``, at least one letter, no edge dashes."""
    errors = [_max_len(15)] if byte_len(value) > 15 else []
    if not re.fullmatch("[-a-z0-9]+", value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def is_port_number(value: int) -> list[str]:
    return [] if 1 <= value <= 65535 else ["must be between 1 and 65535, inclusive"]


def is_percent(value: str) -> list[str]:
    if re.fullmatch("[0-9]+%", value):
        return []
    return [
        _regex_error(
            "a valid percent string must be a numeric string followed by an ending '%'",
            "[0-9]+%",
            "1%",
            "93%",
        )
    ]


def is_relaxed_env_var_name(value: str) -> list[str]:
    """1.32 has RelaxedEnvironmentVariableValidation on: printable ASCII except ``=``."""
    errors = [] if value else ["environment variable name must be non-empty"]
    if any(not (" " <= char <= "~") or char == "=" for char in value):
        errors.append(
            "a valid environment variable name must consist only of printable ASCII "
            "characters other than '='"
        )
    return errors


def is_ip(value: str) -> list[str]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    return []


_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec"
_DAYS = "sun mon tue wed thu fri sat"
# Minute, hour, day of month, month, day of week: bounds and the names each field accepts.
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, {name: index + 1 for index, name in enumerate(_MONTHS.split())}),
    (0, 6, {name: index for index, name in enumerate(_DAYS.split())}),
)


def cron_errors(schedule: str) -> list[str]:
    """``cron.ParseStandard``'s error for ``schedule``, or nothing when it parses."""
    spec = schedule
    if spec.startswith(("TZ=", "CRON_TZ=")):
        spec = spec[spec.find(" ") :].strip() if " " in spec else ""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS or re.fullmatch(r"@every (\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", spec):
            return []
        if spec.startswith("@every "):
            return [f'failed to parse duration {spec}: time: invalid duration "{spec[7:]}"']
        return [f"unrecognized descriptor: {spec}"]
    fields = spec.split()
    if len(fields) != 5:
        return [f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"]
    for field, (low, high, names) in zip(fields, _FIELDS, strict=True):
        for expr in (part for part in field.split(",") if part):
            if error := _range_error(expr, low, high, names):
                return [error]
    return []


def _number(text_: str, names: dict[str, int]) -> int | str:
    if text_.lower() in names:
        return names[text_.lower()]
    if not re.fullmatch(r"[+-]?[0-9]+", text_):
        return f'failed to parse int from {text_}: strconv.Atoi: parsing "{text_}": invalid syntax'
    if int(text_) < 0:
        return f"negative number ({int(text_)}) not allowed: {text_}"
    return int(text_)


def _range_error(expr: str, low: int, high: int, names: dict[str, int]) -> str | None:
    range_, _, step_text = expr.partition("/")
    if expr.count("/") > 1:
        return f"too many slashes: {expr}"
    bounds = range_.split("-")
    if bounds[0] in ("*", "?"):
        start, end = low, high
    elif len(bounds) > 2:
        return f"too many hyphens: {expr}"
    else:
        numbers = [_number(bound, names) for bound in bounds]
        if errors := [n for n in numbers if isinstance(n, str)]:
            return errors[0]
        start, end = int(numbers[0]), int(numbers[-1])
        end = high if "/" in expr and len(bounds) == 1 else end
    step = _number(step_text, {}) if "/" in expr else 1
    if isinstance(step, str):
        return step
    if start < low:
        return f"beginning of range ({start}) below minimum ({low}): {expr}"
    if end > high:
        return f"end of range ({end}) above maximum ({high}): {expr}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expr}"
    return f"step of range should be a positive number: {expr}" if step == 0 else None
