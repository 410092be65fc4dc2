//! Cross-cutting test suites of the workspace live in `tests/tests/`.
