//! Encoding one query with each prepared model: the default int8 e5-small, its
//! float32 reference and USE (skipped without models/).

#![allow(missing_docs, reason = "criterion_group! generates undocumented functions")]

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn encode(c: &mut Criterion) {
    for folder in ["e5-small", "e5-small-fp32", "use-multilingual"] {
        let Some(encoder) = common::encoder_in(folder) else { return };
        // Warm the session before measuring.
        let v = encoder.encode_one("怎么退货").expect("encode");
        assert_eq!(v.len(), encoder.dim());
        c.bench_function(&format!("encode/{folder}/short_query"), |b| {
            b.iter(|| encoder.encode_one(black_box("我的宽带为什么断网了")).expect("encode"))
        });
        let long =
            "我上个月办理了星享五十九元套餐，但是这个月账单显示多扣了三十元，请问是什么原因，能不能退给我？".repeat(3);
        c.bench_function(&format!("encode/{folder}/long_query"), |b| {
            b.iter(|| encoder.encode_one(black_box(&long)).expect("encode"))
        });
    }
}

criterion_group!(benches, encode);
criterion_main!(benches);
