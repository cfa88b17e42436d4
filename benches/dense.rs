//! Dense search at scale: a synthetic 100k-entry knowledge base (three questions
//! per entry, 300k vectors from the real model), exact int8 scan vs the HNSW
//! graph. Prints recall@10 of the graph against the exact scan, p50/p99 per query
//! over real customer messages, build time, memory per vector and the process RSS;
//! criterion then times both searches. Skipped without models/.
//!
//! ```sh
//! cargo bench --bench dense                 # 100k entries
//! BIZBOT_BENCH_ENTRIES=20000 cargo bench --bench dense
//! ```
//!
//! The first run embeds the 300k texts (minutes on 2 cores) into
//! `.cache/embeddings`; later runs read them from there.

#![allow(missing_docs, reason = "criterion_group! generates undocumented functions")]

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use bizbot::embed::EmbeddingCache;
use bizbot::index::{AnnConfig, DenseQuery, VectorIndex};
use criterion::{Criterion, criterion_group, criterion_main};

/// The serving configuration's scoring: mean of an entry's 3 nearest questions.
const NEIGHBOURS: usize = 3;
const K: usize = 10;

fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn dense(c: &mut Criterion) {
    let Some(encoder) = common::encoder() else { return };
    let entries: usize = std::env::var("BIZBOT_BENCH_ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let kb = common::synthetic_kb(entries);
    let normalize = bizbot::text::NormalizeConfig::default();
    let analyzer = bizbot::text::Analyzer::new(normalize, &kb.vocabulary);
    let docs: Vec<Vec<String>> = kb
        .faqs
        .iter()
        .map(|e| std::iter::once(&e.question).chain(&e.similar).map(|t| analyzer.normalize(t)).collect())
        .collect();
    let texts: Vec<&str> = docs.iter().flatten().map(String::as_str).collect();
    let counts: Vec<usize> = docs.iter().map(Vec::len).collect();
    let started = Instant::now();
    let cache_dir = common::config().model.cache_dir;
    let mut cache = EmbeddingCache::open(&cache_dir, encoder.model_id(), encoder.dim());
    let (vectors, encoded) = cache.embed_all(encoder.as_ref(), &texts).expect("embed");
    cache.save().expect("save the embedding cache");
    drop(cache);
    eprintln!(
        "dense: {entries} entries, {} vectors ({encoded} newly embedded) in {:.0?}",
        texts.len(),
        started.elapsed()
    );

    let exact = VectorIndex::from_vectors(
        &vectors,
        &counts,
        encoder.dim(),
        AnnConfig { min_vectors: 0, ..AnnConfig::default() },
    )
    .expect("exact index");
    let ann_config = AnnConfig { min_vectors: 1, ..AnnConfig::default() };
    let started = Instant::now();
    let graph = VectorIndex::from_vectors(&vectors, &counts, encoder.dim(), ann_config).expect("graph");
    let build = started.elapsed();
    drop(vectors);

    // Real customer messages, embedded as queries are.
    let messages = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/customers-dev.csv"))
        .expect("customer messages");
    let queries: Vec<Vec<f32>> = messages
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|t| !t.is_empty())
        .map(|t| encoder.encode_one(&analyzer.normalize(t)).expect("encode"))
        .collect();

    let how = DenseQuery { neighbours: NEIGHBOURS, limit: K, ..DenseQuery::default() };
    // Each search timed in a run of its own kind, as a server runs them (an exact
    // scan in between would evict the graph from the caches).
    let (mut exact_times, mut graph_times) = (Vec::new(), Vec::new());
    let mut wants = Vec::new();
    for q in &queries {
        let t = Instant::now();
        wants.push(exact.nearest(q, how).expect("exact").matches);
        exact_times.push(t.elapsed());
    }
    let (mut found, mut wanted) = (0usize, 0usize);
    for (q, want) in queries.iter().zip(&wants) {
        let t = Instant::now();
        let got = graph.nearest(q, how).expect("graph").matches;
        graph_times.push(t.elapsed());
        found += got.iter().filter(|g| want.iter().any(|w| w.doc == g.doc)).count();
        wanted += want.len();
    }
    exact_times.sort_unstable();
    graph_times.sort_unstable();
    eprintln!(
        "dense: {} queries; recall@{K} of the graph vs exact {:.4}; graph built in {:.1?} (ef_construction {}, ef_search {})",
        queries.len(),
        found as f64 / wanted as f64,
        build,
        ann_config.ef_construction,
        ann_config.ef_search,
    );
    eprintln!(
        "dense: per query (vector given) exact p50 {:.2} ms p99 {:.2} ms; graph p50 {:.2} ms p99 {:.2} ms",
        percentile(&exact_times, 50.0),
        percentile(&exact_times, 99.0),
        percentile(&graph_times, 50.0),
        percentile(&graph_times, 99.0),
    );
    eprintln!(
        "dense: {} bytes per entry with the graph ({} without), process RSS {:.0} MB (both indexes held)",
        graph.bytes_per_doc(),
        exact.bytes_per_doc(),
        resident_mb(),
    );

    let q = &queries[0];
    let mut group = c.benchmark_group(format!("dense/{}k", entries / 1000));
    group.bench_function("exact", |b| b.iter(|| exact.nearest(black_box(q), how).expect("exact")));
    group.bench_function("graph", |b| b.iter(|| graph.nearest(black_box(q), how).expect("graph")));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = dense
}
criterion_main!(benches);
