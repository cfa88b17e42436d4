//! Load test for a running bizbot: closed-loop virtual customers post chat turns
//! to `/v1/chat` for a fixed time and the tool reports turns per second and latency
//! percentiles. Started by `scripts/loadtest.sh`, which also starts the server.
//!
//! ```sh
//! cargo run --release --example loadtest -- --url http://127.0.0.1:8080 --concurrency 8 --duration 30
//! ```
//!
//! `--url` may be given several times (replicas sharing sessions in Redis): turns
//! then go round-robin over them, turn by turn, so every conversation moves
//! between replicas as behind a load balancer without sticky sessions.
//!
//! Each virtual customer runs conversations of a few turns drawn from a fixed mix
//! (FAQ questions in other words, a clarification and its choice, both back-end
//! look-ups, a question the knowledge does not cover, a complaint), with a new
//! session per conversation so no session stays handed off.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;

#[derive(Debug, Parser)]
struct Args {
    /// Base URL of the bot; repeat for several replicas (turns go round-robin).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: Vec<String>,
    /// Concurrent virtual customers (each waits for its reply before the next turn).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds of measurement.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds of warm-up before measuring (not counted).
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Seconds to wait for the server's /healthz before giving up.
    #[arg(long, default_value_t = 60)]
    wait: u64,
    /// Customer texts, one conversation of one turn each, instead of the demo mix:
    /// a CSV with a `query` (or `text`) column, or a plain file with one per line.
    #[arg(long)]
    texts: Option<std::path::PathBuf>,
    /// The chat endpoint's path (the peer stack serves `/chat`).
    #[arg(long, default_value = "/v1/chat")]
    path: String,
    /// The readiness path polled before starting; "" polls the chat path itself.
    #[arg(long, default_value = "/healthz")]
    health: String,
}

/// Texts from a CSV (`query` or `text` column) or a plain list.
fn read_texts(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let content = std::fs::read_to_string(path)?;
    let mut lines = content.lines();
    let header = lines.next().unwrap_or_default();
    let column = header.split(',').position(|c| c.trim() == "query" || c.trim() == "text");
    let texts: Vec<String> = match column {
        Some(col) => {
            let mut reader = csv::Reader::from_path(path)?;
            reader.records().filter_map(Result::ok).filter_map(|r| r.get(col).map(str::to_owned)).collect()
        }
        None => content.lines().map(str::to_owned).collect(),
    };
    let texts: Vec<String> = texts.into_iter().filter(|t| !t.trim().is_empty()).collect();
    anyhow::ensure!(!texts.is_empty(), "no texts in {}", path.display());
    Ok(texts)
}

/// Conversations: each a list of customer turns in one session.
const CONVERSATIONS: &[&[&str]] = &[
    &["WIFI免费吗"],
    &["话费怎么交"],
    &["宽带老是掉线怎么办"],
    &["请问怎么退货"],
    &["退", "2"],
    &["我开通了什么业务"],
    &["我的订单到哪了", "123456789012"],
    &["今天天气怎么样"],
    &["手机丢了怎么办", "怎么补卡"],
    &["流量不够用了，有没有流量包"],
    &["你们的服务太差了，我要投诉"],
    &["发票怎么开"],
];

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    actions: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
}

async fn customer(
    client: reqwest::Client,
    urls: std::sync::Arc<Vec<String>>,
    conversations: std::sync::Arc<Vec<Vec<String>>>,
    worker: usize,
    warm: Instant,
    end: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut conversation = worker;
    let mut next_url = worker;
    while Instant::now() < end {
        let session = format!("load-{worker}-{conversation}");
        for text in &conversations[conversation % conversations.len()] {
            let body = json!({"session_id": session, "text": text, "user": {"id": "u1001"}, "channel": "loadtest"});
            let url = &urls[next_url % urls.len()];
            next_url += 1;
            let sent = Instant::now();
            let result = client.post(url).json(&body).send().await;
            let outcome = match result {
                Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                    Ok(v) => Ok(v["action"].as_str().unwrap_or("reply").to_owned()),
                    Err(e) => Err(format!("bad body: {e}")),
                },
                Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
                Err(e) => Err(if e.is_timeout() { "timeout".to_owned() } else { "connection".to_owned() }),
            };
            let took = sent.elapsed();
            if sent >= warm && Instant::now() <= end {
                match outcome {
                    Ok(action) => {
                        tally.latencies.push(took);
                        *tally.actions.entry(action).or_default() += 1;
                    }
                    Err(e) => *tally.errors.entry(e).or_default() += 1,
                }
            }
        }
        conversation += 1;
    }
    tally
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bases: Vec<String> = args.url.iter().map(|u| u.trim_end_matches('/').to_owned()).collect();
    let urls: Vec<String> = bases.iter().map(|b| format!("{b}{}", args.path)).collect();
    let conversations: Vec<Vec<String>> = match &args.texts {
        Some(path) => read_texts(path)?.into_iter().map(|t| vec![t]).collect(),
        None => CONVERSATIONS.iter().map(|c| c.iter().map(|t| (*t).to_owned()).collect()).collect(),
    };
    let conversations = std::sync::Arc::new(conversations);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    // Wait for the server to come up (it loads knowledge and the model first).
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    for (base, url) in bases.iter().zip(&urls) {
        loop {
            let ready = if args.health.is_empty() {
                client.post(url).json(&json!({"session_id": "ready", "text": "你好"})).send().await
            } else {
                client.get(format!("{base}{}", args.health)).send().await
            };
            match ready {
                Ok(r) if r.status().is_success() => break,
                _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
                _ => anyhow::bail!("{base} is not ready after {}s", args.wait),
            }
        }
    }
    let urls = std::sync::Arc::new(urls);
    let start = Instant::now();
    let warm = start + Duration::from_secs(args.warmup);
    let end = warm + Duration::from_secs(args.duration);
    let workers: Vec<_> = (0..args.concurrency)
        .map(|w| tokio::spawn(customer(client.clone(), urls.clone(), conversations.clone(), w, warm, end)))
        .collect();
    let mut total = Tally::default();
    for w in workers {
        let t = w.await?;
        total.latencies.extend(t.latencies);
        for (k, v) in t.actions {
            *total.actions.entry(k).or_default() += v;
        }
        for (k, v) in t.errors {
            *total.errors.entry(k).or_default() += v;
        }
    }
    total.latencies.sort_unstable();
    let n = total.latencies.len();
    let errors: u64 = total.errors.values().sum();
    let secs = args.duration as f64;
    println!(
        "load test: {}, {} customers, {}s (after {}s warm-up)",
        urls.join(" + "),
        args.concurrency,
        args.duration,
        args.warmup
    );
    println!("turns ok        {n}");
    println!("errors          {errors} {:?}", total.errors);
    println!("turns/s         {:.1}", n as f64 / secs);
    println!(
        "latency ms      p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(percentile(&total.latencies, 50.0)),
        ms(percentile(&total.latencies, 90.0)),
        ms(percentile(&total.latencies, 99.0)),
        ms(total.latencies.last().copied().unwrap_or_default()),
    );
    println!("actions         {:?}", total.actions);
    anyhow::ensure!(errors == 0, "{errors} turns failed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&v, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
