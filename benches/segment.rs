//! Text analysis (normalise + jieba + synonyms) of short and long queries.

#![allow(missing_docs, reason = "criterion_group! generates undocumented functions")]

use std::hint::black_box;

use bizbot::text::{Analyzer, NormalizeConfig, Vocabulary};
use criterion::{Criterion, criterion_group, criterion_main};

fn segment(c: &mut Criterion) {
    let vocabulary = Vocabulary {
        synonym_groups: vec![vec!["WLAN".into(), "WIFI".into(), "无线网".into()]],
        ..Vocabulary::default()
    };
    let analyzer = Analyzer::new(NormalizeConfig::default(), &vocabulary);
    // Warm jieba and the traditional→simplified tables.
    assert_eq!(analyzer.terms("WIFI免費嗎"), vec!["wlan", "免费"]);
    let short = "請問WIFI免費嗎？";
    let long =
        "我上个月办理了星享五十九元套餐，但是这个月账单显示多扣了三十元，请问是什么原因，能不能退给我？".repeat(5);
    c.bench_function("segment/short", |b| b.iter(|| analyzer.terms(black_box(short))));
    c.bench_function("segment/long", |b| b.iter(|| analyzer.terms(black_box(&long))));
}

criterion_group!(benches, segment);
criterion_main!(benches);
