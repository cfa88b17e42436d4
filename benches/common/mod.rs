//! Fixed bench data: a synthetic FAQ set of any size, generated deterministically
//! from product × question-type × qualifier combinations, so 1k and 10k sets are the
//! same on every machine without committing megabytes of CSV.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::Arc;

use bizbot::embed::{EmbedConfig, Encoder, OnnxEncoder};
use bizbot::knowledge::{FaqEntry, SourceLocation};
use bizbot::{Config, Engine, KnowledgeBase};

const PRODUCTS: &[&str] = &[
    "话费",
    "流量",
    "宽带",
    "套餐",
    "订单",
    "发票",
    "积分",
    "漫游",
    "副卡",
    "亲情号",
    "彩铃",
    "短信",
    "来电显示",
    "语音信箱",
    "5G",
    "光猫",
    "路由器",
    "手机",
    "耳机",
    "充电器",
    "优惠券",
    "会员",
    "合约机",
    "SIM卡",
    "密码",
    "实名",
    "营业厅",
    "快递",
    "退款",
    "保修",
    "云盘",
    "视频会员",
    "家庭网",
    "固话",
    "物联网卡",
    "国际长途",
    "携号转网",
    "靓号",
    "停机保号",
    "宽带电视",
];
const ASKS: &[&str] = &[
    "怎么查询",
    "如何办理",
    "多少钱",
    "怎么取消",
    "为什么失败",
    "在哪里看",
    "能不能退",
    "有什么优惠",
    "怎么开发票",
    "多久生效",
    "怎么修改",
    "忘记了怎么办",
    "可以转给别人吗",
    "过期了怎么办",
    "需要什么材料",
    "有没有限制",
    "怎么续费",
    "怎么升级",
    "出问题找谁",
    "怎么投诉",
];
const QUALIFIERS: &[&str] =
    &["", "家庭", "学生", "企业", "老人", "国际", "本地", "新用户", "老用户", "线上", "夜间", "周末", "外地"];

/// Places that multiply the combinations beyond 10,400 (the first, "", keeps the
/// smaller sets as they always were).
const PLACES: &[&str] = &["", "北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京"];

/// `n` FAQ entries (n ≤ 104,000), each with two similar questions.
pub fn synthetic_kb(n: usize) -> KnowledgeBase {
    let mut faqs = Vec::with_capacity(n);
    'outer: for place in PLACES {
        for q in QUALIFIERS {
            for p in PRODUCTS {
                for a in ASKS {
                    if faqs.len() == n {
                        break 'outer;
                    }
                    let i = faqs.len();
                    let q = format!("{place}{q}");
                    faqs.push(FaqEntry {
                        id: format!("e{i}").into(),
                        question: format!("{q}{p}{a}"),
                        similar: vec![format!("请问{q}{p}应该{a}"), format!("我想知道{p}{q}{a}")],
                        answer: format!("关于{q}{p}{a}：请在 App 中操作，或拨打 10086。"),
                        category: (*p).to_owned(),
                        tags: vec![],
                        related: vec![],
                        actions: vec![],
                        handoff: false,
                        variants: vec![],
                        when: vec![],
                        source: SourceLocation { file: PathBuf::from("synthetic"), line: i + 2 },
                    });
                }
            }
        }
    }
    assert_eq!(faqs.len(), n, "not enough combinations");
    KnowledgeBase { faqs, ..KnowledgeBase::default() }
}

/// The real encoder the retrieval benches use (the faster prepared model; the
/// retrieval's own cost does not depend on the model), or `None` when models/ is
/// not prepared.
#[allow(dead_code, reason = "each bench binary uses a part of this module")]
pub fn encoder() -> Option<Arc<dyn Encoder>> {
    encoder_in("use-multilingual")
}

/// The prepared model in `models/<folder>`, or `None` when it is not prepared.
pub fn encoder_in(folder: &str) -> Option<Arc<dyn Encoder>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = EmbedConfig {
        model_dir: root.join("models").join(folder),
        runtime_library: root.join("models/onnxruntime/libonnxruntime.so"),
        ..EmbedConfig::default()
    };
    if !config.model_dir.join("model.onnx").is_file() {
        eprintln!("models/ not prepared (run scripts/setup.sh): skipping model benches");
        return None;
    }
    Some(Arc::new(OnnxEncoder::load(&config).expect("model loads")))
}

/// Default configuration, embedding cache in .cache/embeddings (so the 10k set is
/// embedded once, not on every bench run).
pub fn config() -> Config {
    let mut config = bizbot::config::load_from(None, []).expect("default config");
    config.model.cache_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/embeddings");
    config
}

/// An engine over `n` synthetic entries.
pub fn engine(n: usize, encoder: Option<Arc<dyn Encoder>>) -> Engine {
    Engine::build(synthetic_kb(n), &config().engine_settings(), encoder).expect("index")
}
