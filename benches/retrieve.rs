//! Retrieval per query at 1k and 10k FAQ entries: lexical, dense, hybrid.
//! Dense and hybrid include encoding the query; they are skipped without models/.

#![allow(missing_docs, reason = "criterion_group! generates undocumented functions")]

mod common;

use std::hint::black_box;

use bizbot::index::Mode;
use criterion::{Criterion, criterion_group, criterion_main};

const QUERY: &str = "学生宽带多少钱一个月";

fn retrieve(c: &mut Criterion) {
    let encoder = common::encoder();
    for n in [1_000, 10_000] {
        let engine = common::engine(n, encoder.clone());
        let mut group = c.benchmark_group(format!("retrieve/{}k", n / 1000));
        let modes: &[Mode] =
            if engine.has_dense() { &[Mode::Lexical, Mode::Dense, Mode::Hybrid] } else { &[Mode::Lexical] };
        for &mode in modes {
            // A broken pipeline must not be measured as a fast one.
            let hits = engine.search(QUERY, 5, mode).expect("search");
            assert_eq!(hits.len(), 5, "{mode:?} returned {} hits", hits.len());
            assert!(hits[0].entry.question.contains("宽带"), "{mode:?}: {}", hits[0].entry.question);
            group.bench_function(format!("{mode:?}").to_lowercase(), |b| {
                b.iter(|| engine.search(black_box(QUERY), 5, mode).expect("search"))
            });
        }
        if let (true, Some(v)) = (engine.has_dense(), engine.retriever().embed_query(QUERY).expect("embed")) {
            group.bench_function("dense_search_only", |b| {
                b.iter(|| {
                    engine.retriever().search_with_vector(QUERY, Some(black_box(&v)), 5, Mode::Dense).expect("search")
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = retrieve
}
criterion_main!(benches);
