//! Paraphrases that are not in the demo knowledge find the right entry, with the
//! real model and lexical-only.

use std::sync::Arc;

use bizbot::index::{Hit, Mode};
use bizbot::{Engine, KnowledgeBase};

use crate::common::{real_encoder, root};

/// Customer wordings absent from knowledge/, with the entry they mean.
const PARAPHRASES: &[(&str, &str)] = &[
    ("WIFI免费吗", "wlan-free"),
    ("請問怎麼退貨", "return-apply"),
    ("我手机里还有多少钱", "bill-balance"),
    ("宽带断了谁来修", "broadband-repair"),
    ("出国旅游手机流量怎么收费", "roam-pack"),
    ("忘了服务密码", "account-password"),
    ("快递到哪里了", "order-track"),
    ("退款几天能到", "return-refund-time"),
    ("怎么打印手机话费的发票", "invoice-bill"),
    ("手机流量不够了", "data-addon"),
];

fn engine(encoder: Option<Arc<dyn bizbot::embed::Encoder>>) -> Engine {
    let kb = KnowledgeBase::load(&root().join("knowledge")).expect("demo knowledge is valid");
    let mut config = bizbot::config::load_from(None, []).expect("default config");
    config.model.cache_dir = Default::default();
    Engine::build(kb, &config.engine_settings(), encoder).expect("index")
}

fn misses(engine: &Engine, mode: Mode) -> Vec<String> {
    PARAPHRASES
        .iter()
        .filter_map(|(q, want)| {
            let hits = engine.search(q, 3, mode).expect("search");
            let got = hits.first().map_or("-", |h| h.entry.id.as_str());
            (got != *want).then(|| format!("{q}: got {got}, want {want}"))
        })
        .collect()
}

#[test]
fn paraphrases_find_their_entry_with_the_model() {
    let Some(encoder) = real_encoder() else { return };
    let engine = engine(Some(encoder));
    assert!(engine.has_dense());
    assert_eq!(misses(&engine, Mode::Hybrid), Vec::<String>::new());
}

#[test]
fn synonyms_and_traditional_input_work_lexical_only() {
    let engine = engine(None);
    assert!(!engine.has_dense());
    for (q, want) in
        [("WIFI免费吗", "wlan-free"), ("請問怎麼退貨", "return-apply"), ("ＷＩＦＩ　免費嗎？", "wlan-free")]
    {
        let hits = engine.search(q, 3, Mode::Lexical).unwrap();
        assert_eq!(hits[0].entry.id, want, "{q}");
    }
}

#[test]
fn homophone_typos_and_typed_pinyin_are_repaired() {
    let engine = engine(None);
    assert_eq!(engine.repaired("秘码忘了"), "密码忘了");
    assert_eq!(engine.repaired("新房子想装个宽代"), "新房子想装个宽带");
    assert_eq!(engine.repaired("查下liuliang"), "查下流量");
    // jieba's model glues the typo to the next character (宽代坏); the repair still
    // sees it as whole words.
    assert_eq!(engine.repaired("宽代坏了 找人来修"), "宽带坏了 找人来修");
    for ordinary in ["那个套餐多少钱", "我要吃饭", "wifi连不上", "微信余额能交话费吗", "手机重启了"]
    {
        assert_eq!(engine.repaired(ordinary), ordinary);
    }
    let hits = engine.search("服务秘码忘了咋办", 3, Mode::Lexical).unwrap();
    assert_eq!(hits[0].entry.id, "account-password");
}

#[test]
fn results_are_per_entry_not_per_question() {
    let engine = engine(None);
    let hits = engine.search("怎么退货", 10, Mode::Lexical).unwrap();
    let mut ids: Vec<&str> = hits.iter().map(|h| h.entry.id.as_str()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "an entry appears twice");
}

#[test]
fn confidence_is_in_unit_range() {
    let Some(encoder) = real_encoder() else { return };
    let engine = engine(Some(encoder));
    for q in ["WIFI免费吗", "今天天气怎么样", "😀😀😀", "a", "套餐 套餐 套餐 套餐"] {
        for h in engine.search(q, 5, Mode::Hybrid).unwrap() {
            assert!((0.0..=1.0).contains(&h.hit.score), "{q}: {}", h.hit.score);
        }
    }
}

/// `retrieval.other_businesses` counts only names the knowledge never mentions:
/// the demo's answers name 支付宝 as a way to pay, so it is no other business here.
#[test]
fn other_businesses_are_the_names_the_knowledge_never_mentions() {
    let engine = engine(None);
    let named = |text: &str| engine.other_business_in(&engine.repaired(text)).map(str::to_owned);
    assert_eq!(named("淘宝买的衣服怎么申请退款").as_deref(), Some("淘宝"));
    assert_eq!(named("招商銀行信用卡賬單怎麼查").as_deref(), Some("招商银行"));
    assert_eq!(named("能用支付宝交话费吗"), None);
    assert_eq!(named("宽带坏了去哪儿报修"), None);
    // A name the knowledge mentions counts against the entries that never do.
    let for_entry = |text: &str, id: &str| {
        let doc = engine.knowledge().faqs.iter().position(|e| e.id.as_str() == id).expect(id);
        let best = engine.faq_match(Hit { doc, score: 1.0, lexical: 1.0, cosine: None, slot: 0 });
        engine.other_business_for(&engine.repaired(text), &best).map(str::to_owned)
    };
    assert_eq!(for_entry("能用支付宝交话费吗", "bill-recharge"), None);
    assert_eq!(for_entry("支付宝额度怎么提升", "bill-credit").as_deref(), Some("支付宝"));
}
