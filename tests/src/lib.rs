//! Shared helpers of the cross-cutting test suites.
