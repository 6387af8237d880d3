"""The API described as OpenAPI 3.1 (served at ``GET /openapi.json``).

Kept by hand beside the routes; a test checks that it is a valid OpenAPI 3.1
document and that its paths and methods are exactly the API's routes.
"""

from __future__ import annotations

from typing import Any

from grader import __version__
from grader.answers import TYPES
from grader.students import ID_RULE


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        413: "TooLarge",
        415: "UnsupportedMediaType",
        429: "RateLimited",
        503: "Unavailable",
    }
    return {str(code): {"$ref": f"#/components/responses/{names[code]}"} for code in codes}


def _answer_schema_name(type_name: str) -> str:
    """``number`` → ``NumberAnswer``: the schema of an answer to a part of that type."""
    return type_name.capitalize() + "Answer"


_STUDENT_ID = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$",
    "description": f"A student id: {ID_RULE}.",
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string", "description": "A stable slug, e.g. `invalid_submission`."},
            "detail": {"description": "A sentence saying what is wrong (or data)."},
        },
    },
    "Answer": {
        "description": "A JSON number, a list, or a string as a student types it (`3.5, 2`, `10/3`, `[3.5, 2]`); "
        "what a part accepts depends on its type (its `hint` says how to write it).",
        "anyOf": [_ref(_answer_schema_name(name)) for name in TYPES],
    },
    **{_answer_schema_name(name): cls().schema() for name, cls in TYPES.items()},
    "Submission": {
        "type": "object",
        "required": ["answers"],
        "additionalProperties": False,
        "properties": {
            "student": {
                **_STUDENT_ID,
                "description": "Whose answers; a student token may leave it out.",
            },
            "assignment": {"type": "string"},
            "answers": {
                "type": "object",
                "description": "Exercise id → part id → answer.",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": _ref("Answer"),
                },
            },
        },
    },
    "PartResult": {
        "type": "object",
        "required": ["id", "score", "max_score", "status", "feedback", "misconception", "details"],
        "properties": {
            "id": {"type": "string"},
            "score": {"type": "number"},
            "max_score": {"type": "number"},
            "status": {"enum": ["correct", "partial", "incorrect", "missing", "invalid", "needs_review"]},
            "feedback": {"type": "string"},
            "misconception": {"type": ["string", "null"]},
            "details": {"type": "object"},
            "read": {**_ref("Reading"), "description": "With `include=read`: how the answer was read."},
        },
    },
    "ExerciseResult": {
        "type": "object",
        "required": ["id", "score", "max_score", "parts"],
        "properties": {
            "id": {"type": "string"},
            "score": {"type": "number"},
            "max_score": {"type": "number"},
            "parts": {"type": "array", "items": _ref("PartResult")},
            "plot": {**_ref("Plot"), "description": "With `include=plot`, for exercises that draw a path."},
        },
    },
    "Result": {
        "type": "object",
        "required": ["student", "score", "max_score", "exercises"],
        "properties": {
            "student": {"type": "string"},
            "score": {"type": "number"},
            "max_score": {"type": "number"},
            "exercises": {"type": "array", "items": _ref("ExerciseResult")},
            "file": {"type": "string", "description": "Notebooks: the uploaded file's name."},
            "error": {
                "type": ["string", "null"],
                "description": "Notebooks: why it could not be run to the end.",
            },
            "warning": {
                "type": "string",
                "description": "Notebooks: where the notebook's metadata names another student or assignment than "
                "the one it was graded as (it is graded as the one it was handed in for).",
            },
        },
    },
    "Reading": {
        "type": "object",
        "description": "How an answer is read, as grading reads it, before anything is compared: `read_as` and "
        "`latex` (for KaTeX), or the `reason` it cannot be read yet (then `read_as` is null).",
        "required": ["read_as", "latex", "size", "notes", "reason", "hint"],
        "properties": {
            "read_as": {"type": ["string", "null"], "description": "Plain text, e.g. `4, 2, 1, ½, ¼, ⅛`."},
            "latex": {"type": ["string", "null"], "description": "The same in LaTeX, e.g. `4,\\ 2,\\ \\frac{1}{2}`."},
            "size": {
                "type": ["string", "null"],
                "description": "How many items were read, e.g. `6 numbers`, `5 numbers; this part asks for 6`.",
            },
            "notes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Liberties taken, e.g. `Read 37,5 as 37.5 (decimal comma).`",
            },
            "reason": {"type": ["string", "null"], "description": "Why it cannot be read yet, with the hint."},
            "hint": {"type": ["string", "null"], "description": "How to write an answer to this part."},
        },
    },
    "ReadRequest": {
        "type": "object",
        "required": ["exercise", "part", "text"],
        "properties": {
            "exercise": {"type": "string"},
            "part": {"type": "string"},
            "text": {"type": "string", "maxLength": 10000, "description": "The answer as typed so far."},
            "student": {**_STUDENT_ID, "description": "Whose variant (staff only; a student token reads its own)."},
        },
    },
    "Plot": {
        "type": "object",
        "required": ["data_uri", "alt"],
        "description": "The student's own path on the loss curve (never the reference path).",
        "properties": {
            "data_uri": {"type": "string", "description": "An SVG as a `data:image/svg+xml` URI (at most 256 KB)."},
            "alt": {"type": "string", "description": "The picture in words."},
        },
    },
    "GradeResponse": {
        "allOf": [
            _ref("Result"),
            {
                "type": "object",
                "required": ["submission"],
                "properties": {"submission": {"type": "string", "description": "The stored id."}},
            },
        ]
    },
    "Queued": {
        "type": "object",
        "required": ["id", "status", "url"],
        "properties": {
            "id": {"type": "string"},
            "status": {"const": "queued"},
            "url": {"type": "string"},
        },
    },
    "SubmissionSummary": {
        "type": "object",
        "required": ["id", "student", "kind", "status", "attempts", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "student": {"type": "string"},
            "kind": {"enum": ["answers", "notebook"]},
            "status": {"enum": ["queued", "running", "done", "failed"]},
            "assignment": {"type": ["string", "null"]},
            "filename": {"type": ["string", "null"]},
            "score": {"type": ["number", "null"]},
            "max_score": {"type": ["number", "null"]},
            "attempts": {"type": "integer"},
            "error": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "SubmissionStatus": {
        "allOf": [
            _ref("SubmissionSummary"),
            {
                "type": "object",
                "required": ["result"],
                "properties": {"result": {"oneOf": [_ref("Result"), {"type": "null"}]}},
            },
        ]
    },
    "ExerciseSummary": {
        "type": "object",
        "required": ["id", "title", "kind", "max_score", "parts"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "kind": {"enum": ["answers", "code"]},
            "max_score": {"type": "number"},
            "parts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "type": {"enum": list(TYPES)},
                        "field": {
                            "enum": ["line", "area", "select"],
                            "description": "the field a form shows for it: a line read as it is typed, a text area, "
                            "or a list of the choices",
                        },
                        "points": {"type": "number"},
                    },
                },
            },
        },
    },
    "ExercisePrompt": {
        "type": "object",
        "required": ["id", "title", "prompt", "parameters", "parts"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "prompt": {"type": "string", "description": "Markdown with $…$ LaTeX."},
            "parameters": {"type": "object"},
            "student": {"type": ["string", "null"]},
            "parts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "type": {"enum": list(TYPES)},
                        "field": {
                            "enum": ["line", "area", "select"],
                            "description": "the field a form shows for it: a line read as it is typed, a text area, "
                            "or a list of the choices",
                        },
                        "points": {"type": "number"},
                        "prompt": {"type": "string"},
                        "choices": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "the options of a choice part",
                        },
                        "hint": {
                            "type": "string",
                            "description": "How to write the answer, e.g. `write 2 numbers separated by commas, "
                            "like 12.3, -4.56` (answers exercises only).",
                        },
                    },
                },
            },
        },
    },
    "Gradebook": {
        "type": "object",
        "required": ["exercises", "students"],
        "properties": {
            "exercises": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "max_score": {"type": "number"},
                    },
                },
            },
            "students": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "student": {"type": "string"},
                        "name": {"type": ["string", "null"]},
                        "scores": {
                            "type": "object",
                            "additionalProperties": {"type": ["number", "null"]},
                        },
                        "total": {"type": "number"},
                        "max_score": {"type": "number"},
                        "submissions": {"type": "integer"},
                        "waiting_for_ta": {
                            "type": "object",
                            "description": "Per exercise, the counted attempt's parts waiting for a TA.",
                            "additionalProperties": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {"part": {"type": "string"}, "points": {"type": "number"}},
                                },
                            },
                        },
                        "counted_submissions": {
                            "type": "object",
                            "description": "Per exercise, the id of the submission counted.",
                            "additionalProperties": {"type": "string"},
                        },
                    },
                },
            },
            "attempt": {"enum": ["best", "latest"], "description": "Which attempt of each exercise is counted."},
            "counted": {"type": "string", "description": "The same in words."},
        },
    },
    "Analytics": {
        "type": "object",
        "required": ["exercise", "students", "score_histogram", "parts"],
        "properties": {
            "exercise": {"type": "string"},
            "title": {"type": "string"},
            "students": {"type": "integer"},
            "submissions": {"type": "integer"},
            "mean_score": {"type": ["number", "null"]},
            "max_score": {"type": "number"},
            "score_histogram": {
                "type": "object",
                "properties": {
                    "edges": {"type": "array", "items": {"type": "number"}},
                    "counts": {"type": "array", "items": {"type": "integer"}},
                },
            },
            "parts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "max_score": {"type": "number"},
                        "attempts": {"type": "integer"},
                        "mean_score": {"type": "number"},
                        "statuses": {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                        },
                        "misconceptions": {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                        },
                        "first_wrong_step": {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                        },
                        "waiting_for_ta": {"type": "integer"},
                        "reviewed": {"type": "integer", "description": "Answers a TA scored."},
                        "unread": {
                            "type": "object",
                            "description": "Answers that could not be read (`invalid`), and their most common forms.",
                            "properties": {
                                "count": {"type": "integer"},
                                "share": {"type": "number"},
                                "forms": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "form": {"type": "string"},
                                            "count": {"type": "integer"},
                                            "example": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
            "attempt": {"enum": ["best", "latest"], "description": "Which attempt of each student is counted."},
        },
    },
    "Review": {
        "type": "object",
        "description": "A TA's score and comment on one part (`action` `score`: an override), or a request that a "
        "TA look at it again (`flag`).",
        "required": ["id", "submission", "exercise", "part", "action", "score", "comment", "by", "at"],
        "properties": {
            "id": {"type": "integer"},
            "submission": {"type": "string"},
            "student": {"type": "string"},
            "exercise": {"type": "string"},
            "part": {"type": "string"},
            "action": {"enum": ["score", "flag"]},
            "score": {"type": ["number", "null"]},
            "comment": {"type": "string"},
            "by": {"type": "string"},
            "at": {"type": ["string", "null"]},
        },
    },
    "Waiting": {
        "type": "object",
        "description": "A part waiting for a TA; `ref` names it for `grader review`.",
        "properties": {
            "ref": {"type": "string"},
            "submission": {"type": "string"},
            "student": {"type": "string"},
            "exercise": {"type": "string"},
            "part": {"type": "string"},
            "created_at": {"type": ["string", "null"]},
            "score": {"type": "number"},
            "max_score": {"type": "number"},
            "reason": {"enum": ["free text", "regrade requested"]},
            "request": {"type": "string"},
        },
    },
}

_RESPONSES = {
    name: _json(_ref("Error"), description)
    for name, description in {
        "BadRequest": "Malformed request or submission; `detail` says which field.",
        "Unauthorized": "No token, or a token that is unknown, revoked or expired.",
        "Forbidden": "The token may not do this (e.g. a student acting for another).",
        "NotFound": "No such exercise or submission (or not one this token may read).",
        "TooLarge": "The request is larger than the upload limit (`payload_too_large`), or storing it would pass "
        "the student's storage quota (`quota_exceeded`); nothing was stored.",
        "UnsupportedMediaType": "Not JSON, not multipart, or not a .ipynb file.",
        "RateLimited": "Too many requests from this user (or, without a valid token, this address), or too many "
        "failed logins with this token or from this address (a valid token is never refused for those); "
        "see Retry-After.",
        "Unavailable": "The database or the job queue does not answer; nothing was stored. See Retry-After.",
    }.items()
}
for _name in ("RateLimited", "Unavailable"):
    _RESPONSES[_name]["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}

_INCLUDE = {
    "name": "include",
    "in": "query",
    "required": False,
    "description": "Extras, comma-separated: `read` (each part's `read`: how its answer was read) and `plot` "
    "(each exercise's `plot`: the student's own path), as a notebook's `check()` shows them.",
    "schema": {"type": "string", "pattern": "^(read|plot)(,(read|plot))?$"},
}

_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_OPTIONAL_BEARER: list[dict[str, list[str]]] = [{}, {"bearer": []}]


_ATTEMPT = {
    "name": "attempt",
    "in": "query",
    "required": False,
    "description": "Which attempt of each exercise counts: each student's best (default; the latest of equal "
    "scores) or latest.",
    "schema": {"enum": ["best", "latest"], "default": "best"},
}


def _path_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


_PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "The service and its database answer.",
            "security": [{}],
            "responses": {
                "200": _json({"type": "object", "properties": {"status": {"const": "ok"}}}, "Healthy."),
                **_errors(503),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "security": [{}],
            "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document.")},
        }
    },
    "/api/exercises": {
        "get": {
            "operationId": "listExercises",
            "summary": "Every exercise and assignment.",
            "security": _OPTIONAL_BEARER,
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "exercises": {"type": "array", "items": _ref("ExerciseSummary")},
                            "assignments": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                    "The catalog.",
                ),
                **_errors(429),
            },
        }
    },
    "/api/exercises/{exercise_id}": {
        "get": {
            "operationId": "getExercise",
            "summary": "An exercise's prompt and parameters for a student (never the answers).",
            "security": _OPTIONAL_BEARER,
            "parameters": [
                _path_parameter("exercise_id", "An exercise id, e.g. `gd-parabola`."),
                {
                    "name": "student",
                    "in": "query",
                    "required": False,
                    "description": "Whose variant (that student's or a staff token).",
                    "schema": _STUDENT_ID,
                },
            ],
            "responses": {
                "200": _json(_ref("ExercisePrompt"), "The exercise as the student sees it."),
                **_errors(400, 401, 403, 404, 429, 503),
            },
        }
    },
    "/api/grade": {
        "post": {
            "operationId": "grade",
            "summary": "Grade a submission at once and store it.",
            "security": _BEARER,
            "parameters": [_INCLUDE],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("Submission")}},
            },
            "responses": {
                "200": _json(_ref("GradeResponse"), "The result, with the stored submission's id."),
                **_errors(400, 401, 403, 413, 415, 429, 503),
            },
        }
    },
    "/api/read": {
        "post": {
            "operationId": "readAnswer",
            "summary": "How one typed answer is read, before it is graded (nothing is graded or stored).",
            "security": _BEARER,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ReadRequest")}}},
            "responses": {
                "200": _json(
                    {
                        "allOf": [
                            _ref("Reading"),
                            {
                                "type": "object",
                                "properties": {"exercise": {"type": "string"}, "part": {"type": "string"}},
                            },
                        ]
                    },
                    "The reading, or the reason there is none yet.",
                ),
                **_errors(400, 401, 403, 413, 415, 429, 503),
            },
        }
    },
    "/api/submissions": {
        "post": {
            "operationId": "createSubmission",
            "summary": "Queue a notebook (multipart) or answers (JSON) for background grading.",
            "security": _BEARER,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["notebook"],
                            "properties": {
                                "notebook": {
                                    "type": "string",
                                    "contentMediaType": "application/x-ipynb+json",
                                    "description": "The .ipynb file.",
                                },
                                "assignment": {"type": "string"},
                                "student": _STUDENT_ID,
                            },
                        }
                    },
                    "application/json": {"schema": _ref("Submission")},
                },
            },
            "responses": {
                "202": {
                    **_json(_ref("Queued"), "Queued; poll the url for the result."),
                    "headers": {
                        "Location": {
                            "description": "The submission's url.",
                            "schema": {"type": "string"},
                        }
                    },
                },
                **_errors(400, 401, 403, 413, 415, 429, 503),
            },
        }
    },
    "/api/submissions/{submission_id}": {
        "get": {
            "operationId": "getSubmission",
            "summary": "A submission's status and, once done, its result.",
            "security": _BEARER,
            "parameters": [_path_parameter("submission_id", "The id returned on submission."), _INCLUDE],
            "responses": {
                "200": _json(_ref("SubmissionStatus"), "The submission."),
                **_errors(400, 401, 404, 429, 503),
            },
        }
    },
    "/api/students/{student}/submissions": {
        "get": {
            "operationId": "listStudentSubmissions",
            "summary": "A student's submissions, newest first (their own, or any for staff).",
            "security": _BEARER,
            "parameters": [
                _path_parameter("student", "A student id."),
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                },
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "student": {"type": "string"},
                            "submissions": {"type": "array", "items": _ref("SubmissionSummary")},
                        },
                    },
                    "The history.",
                ),
                **_errors(400, 401, 403, 429, 503),
            },
        }
    },
    "/api/submissions/{submission_id}/reviews": {
        "get": {
            "operationId": "listReviews",
            "summary": "The reviews of a submission's parts, oldest first (its student, or staff).",
            "security": _BEARER,
            "parameters": [_path_parameter("submission_id", "A submission id.")],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "submission": {"type": "string"},
                            "reviews": {"type": "array", "items": _ref("Review")},
                        },
                    },
                    "The reviews.",
                ),
                **_errors(401, 404, 429, 503),
            },
        },
        "post": {
            "operationId": "reviewPart",
            "summary": "A TA scores one part with a comment (an override, kept through regrades); its student, "
            "without a score, asks a TA to look at the part again.",
            "security": _BEARER,
            "parameters": [_path_parameter("submission_id", "A graded submission's id.")],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["exercise", "part"],
                            "properties": {
                                "exercise": {"type": "string"},
                                "part": {"type": "string"},
                                "score": {"type": "number", "minimum": 0, "description": "TA or instructor only."},
                                "comment": {"type": "string", "maxLength": 2000},
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": _json(
                    {
                        "type": "object",
                        "properties": {
                            "review": _ref("Review"),
                            "part": {"oneOf": [_ref("PartResult"), {"type": "null"}]},
                            "score": {"type": ["number", "null"]},
                        },
                    },
                    "Recorded; the part as it counts now, and the submission's score.",
                ),
                **_errors(400, 401, 403, 404, 413, 415, 429, 503),
            },
        },
    },
    "/api/reviews": {
        "get": {
            "operationId": "reviewQueue",
            "summary": "The parts waiting for a TA (TA or instructor).",
            "security": _BEARER,
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {"waiting": {"type": "array", "items": _ref("Waiting")}}},
                    "The queue, oldest submission first.",
                ),
                **_errors(401, 403, 429, 503),
            },
        }
    },
    "/api/gradebook": {
        "get": {
            "operationId": "gradebook",
            "summary": "Each student's counted score per exercise, reviews applied (TA or instructor).",
            "security": _BEARER,
            "parameters": [_ATTEMPT],
            "responses": {
                "200": _json(_ref("Gradebook"), "The gradebook."),
                **_errors(400, 401, 403, 429, 503),
            },
        }
    },
    "/api/gradebook.csv": {
        "get": {
            "operationId": "gradebookCsv",
            "summary": "The gradebook as CSV, safe to open in a spreadsheet (TA or instructor).",
            "security": _BEARER,
            "parameters": [_ATTEMPT],
            "responses": {
                "200": {
                    "description": "One row per student.",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                **_errors(400, 401, 403, 429, 503),
            },
        }
    },
    "/api/analytics/{exercise_id}": {
        "get": {
            "operationId": "analytics",
            "summary": "Score histogram, misconception counts, first wrong steps and unread answers, counted as the "
            "gradebook counts (TA or instructor).",
            "security": _BEARER,
            "parameters": [_path_parameter("exercise_id", "An exercise id."), _ATTEMPT],
            "responses": {
                "200": _json(_ref("Analytics"), "The statistics."),
                **_errors(400, 401, 403, 404, 429, 503),
            },
        }
    },
}


# The course's rules (grader.web.handins) and regrades (grader.regrade) ---------------------------------------------

_ATTEMPTS = {
    "type": ["object", "null"],
    "description": "Hand-ins of this exercise so far, and how many its assignment still allows (null: unlimited).",
    "properties": {"used": {"type": "integer"}, "left": {"type": ["integer", "null"]}},
}
_SCHEMAS["WithheldExercise"] = {
    "type": "object",
    "required": ["id", "withheld", "parts"],
    "description": "An exercise whose assignment shows no feedback until the student's hand-ins close.",
    "properties": {
        "id": {"type": "string"},
        "withheld": {"type": "string", "description": "When scores and feedback will be shown."},
        "parts": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
    },
}
_SCHEMAS["ExerciseResult"]["properties"]["attempts"] = _ATTEMPTS
_SCHEMAS["Result"]["properties"]["exercises"] = {
    "type": "array",
    "items": {"anyOf": [_ref("ExerciseResult"), _ref("WithheldExercise")]},
}
_SCHEMAS["Result"]["properties"].update(
    {
        "feedback_mode": {
            "enum": ["full", "verdict", "none"],
            "description": "What the assignment's rules show a student now (`verdict`: scores and statuses only).",
        },
        "withheld": {"type": "array", "items": {"type": "string"}, "description": "Exercises whose results wait."},
        "handins": {
            "type": "array",
            "description": "What the hand-in's time meant for each assignment with rules: days late, late days "
            "spent and left, the penalty.",
            "items": {"type": "object"},
        },
    }
)
_SCHEMAS["ExercisePrompt"]["properties"].update(
    {
        "attempts": _ATTEMPTS,
        "handin": {
            "type": "object",
            "description": "The assignment's rules for this student: due date (with their extension), whether "
            "hand-ins are open, late days, what handing in now would mean, the feedback shown.",
        },
    }
)
_SCHEMAS["RegradeJob"] = {
    "type": "object",
    "required": ["id", "target", "status"],
    "properties": {
        "id": {"type": "string"},
        "target": {"type": "string"},
        "dry_run": {"type": "boolean"},
        "status": {"enum": ["queued", "running", "done", "failed"]},
        "progress": {"type": "object"},
        "error": {"type": ["string", "null"]},
        "report": {
            "type": ["object", "null"],
            "description": "Per student the score before and after, per submission what changed.",
        },
    },
}
_PATHS["/api/regrade"] = {
    "post": {
        "operationId": "regrade",
        "summary": "Grade every stored submission of an exercise or assignment again with today's specs "
        "(instructor; in the background).",
        "security": _BEARER,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["target"],
                        "additionalProperties": False,
                        "properties": {"target": {"type": "string"}, "dry_run": {"type": "boolean"}},
                    }
                }
            },
        },
        "responses": {
            "202": _json(_ref("Queued"), "Queued; poll the url for the report."),
            **_errors(400, 401, 403, 413, 415, 429, 503),
        },
    }
}
_PATHS["/api/regrade/{job_id}"] = {
    "get": {
        "operationId": "regradeStatus",
        "summary": "A regrade's status and report (instructor).",
        "security": _BEARER,
        "parameters": [_path_parameter("job_id", "The id returned by POST /api/regrade.")],
        "responses": {"200": _json(_ref("RegradeJob"), "The regrade."), **_errors(401, 403, 404, 429, 503)},
    }
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Optimization course grader",
            "version": __version__,
            "description": (
                "Grade answers and notebooks for a course on optimization in deep learning. "
                'Errors are JSON `{"error": slug, "detail": sentence}` with a 4xx code, or 503 (with '
                "`Retry-After`) while the database or the job queue does not answer."
            ),
        },
        "servers": [{"url": "/"}],
        "security": _BEARER,
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "responses": _RESPONSES,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `grader users add` (student, ta or instructor).",
                }
            },
        },
    }
