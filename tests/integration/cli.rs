//! The command line: exit codes and output formats.

use crate::common::{bizbot, root, stdout};

fn first_match(args: &[&str]) -> String {
    let out = bizbot(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("ask --json prints JSON");
    v["matches"][0]["id"].as_str().expect("a match").to_owned()
}

#[test]
fn ask_puts_the_wlan_entry_first_for_wifi() {
    assert_eq!(first_match(&["ask", "--json", "WIFI免费吗"]), "wlan-free");
}

#[test]
fn ask_handles_traditional_chinese() {
    assert_eq!(first_match(&["ask", "--json", "請問怎麼退貨"]), "return-apply");
}

#[test]
fn ask_json_has_the_documented_fields() {
    let out = bizbot(&["ask", "--json", "-k", "2", "宽带怎么报修"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for key in
        ["query", "normalized", "terms", "model", "decision", "matches", "intents", "other_business", "complaint"]
    {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["matches"].as_array().unwrap().len(), 2);
    assert!(v["other_business"].is_null(), "{v}");
    assert!(v["complaint"].as_f64().is_some_and(|p| p < 0.5), "a question: {v}");
    let out = bizbot(&["ask", "--json", "淘宝买的衣服怎么申请退款"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["other_business"], "淘宝", "{v}");
    assert_ne!(v["decision"]["action"], "answer", "{v}");
    let action = v["decision"]["action"].as_str().unwrap();
    assert!(["answer", "clarify", "fallback"].contains(&action));
}

#[test]
fn started_from_another_folder_the_bot_finds_its_model_or_refuses_to_start() {
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &str)]| {
        let config = crate::common::root().join("bizbot.toml");
        std::process::Command::new(env!("CARGO_BIN_EXE_bizbot"))
            .args(["--config", config.to_str().unwrap(), "ask", "--json", "宽带怎么报修"])
            .current_dir(elsewhere.path())
            .env("BIZBOT__MODEL__CACHE_DIR", "")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    // The config's relative paths (knowledge, model) are read from its own folder.
    let out = run(&[("BIZBOT__MODEL__MODEL_DIR", "models/use-multilingual")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["model"], true, "the model was found: {v}");
    assert_eq!(v["matches"][0]["id"], "broadband-repair", "{v}");
    // A model that is enabled but missing stops the start with what to do.
    let out = run(&[("BIZBOT__MODEL__MODEL_DIR", "models/nowhere")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("models/nowhere") && err.contains("model.enabled = false"), "{err}");
    // Switched off, it runs lexical-only.
    let out = run(&[("BIZBOT__MODEL__ENABLED", "false")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["model"], false, "{v}");
}

#[test]
fn ask_rejects_empty_and_huge_text() {
    assert_eq!(bizbot(&["ask", "   "]).status.code(), Some(2));
    let huge = "退".repeat(5000);
    assert_eq!(bizbot(&["ask", &huge]).status.code(), Some(2));
}

#[test]
fn check_passes_on_the_demo_knowledge() {
    let out = bizbot(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("ok: "));
}

#[test]
fn check_lists_every_problem_with_file_and_line() {
    let dir = root().join("tests/fixtures/broken");
    let out = bizbot(&["check", "--knowledge", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 5, "{text}");
    for want in [
        "faq.csv:1: colour:",
        "faq.csv:3: id: duplicate id \"refund\"",
        "faq.csv:4: related:",
        "guide.md:4: actions:",
        "guide.md:7: answer:",
    ] {
        assert!(text.lines().any(|l| l.contains(want)), "missing {want:?} in\n{text}");
    }
}

#[test]
fn check_json_lists_problems() {
    let dir = root().join("tests/fixtures/broken");
    let out = bizbot(&["check", "--json", "--knowledge", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"].as_array().unwrap().len(), 5);
    assert!(v["problems"][0]["file"].as_str().unwrap().ends_with("faq.csv"));
}

#[test]
fn a_missing_knowledge_path_exits_2() {
    assert_eq!(bizbot(&["check", "--knowledge", "no/such/folder"]).status.code(), Some(2));
    assert_eq!(bizbot(&["ask", "--knowledge", "no/such/folder", "退货"]).status.code(), Some(2));
}

#[test]
fn a_bad_config_exits_1_and_names_the_key() {
    let out = crate::common::bizbot_env(&["check"], &[("BIZBOT__THRESHOLDS__ANSWR", "0.5")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("answr"));
}

#[test]
fn eval_plays_labelled_conversations_and_refuses_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("conversations.csv");
    std::fs::write(
        &file,
        "conversation,text,expected,kind,user\n\
         c1,手机丢了 卡怎么办,account-simlost,faq,\nc1,补卡要带啥,account-replace-sim,faq,\n\
         c2,WIFI免费吗,wlan-free,faq,\nc2,帮我转人工,,human,\n",
    )
    .unwrap();
    let misses = dir.path().join("misses.csv");
    let args = ["eval", "--knowledge", "knowledge", "--conversations", file.to_str().unwrap(), "--json"];
    let out = bizbot(&[&args[..], &["--misses", misses.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("--json prints JSON");
    let m = &v["metrics"];
    assert_eq!(
        (m["conversations"].as_u64(), m["turns"].as_u64(), m["answer_turns"].as_u64()),
        (Some(2), Some(4), Some(3))
    );
    for key in ["right_end_to_end", "turns_right", "answered_right", "answered_or_offered"] {
        assert!(m[key].as_f64().is_some_and(|x| (0.0..=1.0).contains(&x)), "{key}: {v}");
    }
    assert!(misses.is_file(), "the misses file is written");
    std::fs::write(&file, "conversation,text,expected,kind,user\nc1,退货,no-such-entry,faq,\n").unwrap();
    let out = bizbot(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(":2: expected"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn eval_prints_the_plain_model_beside_the_modes_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("queries.csv");
    std::fs::write(&file, "query,expected_id\nWIFI免费吗,wlan-free\n请问怎么退货,return-apply\n量子纠缠是什么,\n")
        .unwrap();
    let args = ["eval", "--knowledge", "knowledge", "--queries", file.to_str().unwrap(), "--mode", "dense"];
    let out = bizbot(&[&args[..], &["--baseline", "--json"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("--json prints JSON");
    let results = v["results"].as_array().expect("results");
    let modes: Vec<&str> = results.iter().filter_map(|r| r["mode"].as_str()).collect();
    assert_eq!(modes, ["dense", "plain"], "{v}");
    let plain = &results[1];
    assert_eq!((plain["in_scope"].as_u64(), plain["out_of_scope"].as_u64()), (Some(2), Some(1)));
    assert_eq!(plain["recall_at_3"].as_f64(), Some(1.0), "both questions are near their entries: {plain}");
}
