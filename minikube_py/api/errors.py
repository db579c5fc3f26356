"""API errors: every failure a client sees is a Kubernetes ``Status``.

``kubectl`` prints ``Error from server (NotFound): pods "x" not found`` from the ``reason``
and ``message`` of a ``Status`` body, and client libraries raise typed exceptions from its
``code``. ``ApiError`` carries exactly those fields; the constructors below word the messages
as upstream's apiserver does, so scripts that match on them keep working.
"""

from __future__ import annotations

from typing import Any

import attrs

from minikube_py.api.resources import ResourceType


@attrs.frozen
class Cause:
    """One ``details.causes`` entry: which field, what kind of problem, in words."""

    reason: str  # FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, …
    message: str
    field: str = ""

    def to_json(self) -> dict[str, str]:
        cause = {"reason": self.reason, "message": self.message}
        if self.field:
            cause["field"] = self.field
        return cause


class ApiError(Exception):
    """An error with its HTTP code and ``Status`` fields."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.retry_after = retry_after

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(rt: ResourceType | None, name: str, **more: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name} if name else {}
    if rt is not None:
        if rt.group:
            details["group"] = rt.group
        details["kind"] = rt.plural
    details.update(more)
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{rt.group_resource} "{name}" not found', details=_details(rt, name)
    )


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{rt.group_resource} "{name}" already exists',
        details=_details(rt, name),
    )


def conflict(rt: ResourceType, name: str, why: str) -> ApiError:
    message = f'Operation cannot be fulfilled on {rt.group_resource} "{name}": {why}'
    return ApiError(409, "Conflict", message, details=_details(rt, name))


STALE = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def invalid(rt: ResourceType, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid: ``The Deployment "x" is invalid: spec.replicas: Invalid value: …``."""
    summary = ", ".join(
        f"{cause.field}: {cause.message}" if cause.field else cause.message for cause in causes
    )
    if len(causes) > 1:
        summary = f"[{summary}]"
    details = _details(rt, name, causes=[cause.to_json() for cause in causes])
    details["kind"] = rt.kind
    qualified = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}', details=details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def too_large(message: str) -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", message)


def path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")
