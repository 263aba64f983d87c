//! An exact evaluator of Kubernetes NetworkPolicy semantics (work in progress).
