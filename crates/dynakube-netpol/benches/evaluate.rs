//! Benchmarks of the NetworkPolicy evaluator (work in progress).

fn main() {}
