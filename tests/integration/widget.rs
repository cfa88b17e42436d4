//! The chat widget in headless Chromium against the real server: a customer types,
//! clicks a clarification choice and a related question, sends 👎, is handed off
//! by a complaint and rates the conversation; the turn log holds all of it;
//! markup in an answer is shown as text; screenshots for the README.

use std::path::{Path, PathBuf};
use std::time::Duration;

use headless_chrome::protocol::cdp::Emulation;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

use crate::common::root;
use crate::common::server::{TOKEN, TestServer};

/// Debian's Chromium, installed by scripts/setup-system.sh. Required when the
/// README's test command runs (BIZBOT_REQUIRE_TEST_DEPS is set there too).
fn chromium() -> Option<PathBuf> {
    let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(PathBuf::from).find(|p| p.is_file());
    if path.is_none() {
        assert!(
            std::env::var_os("BIZBOT_REQUIRE_TEST_DEPS").is_none(),
            "Chromium is missing: run scripts/setup-system.sh"
        );
        eprintln!("no Chromium: skipping the widget test (run scripts/setup-system.sh)");
    }
    path
}

fn browser(path: &Path, size: (u32, u32)) -> Browser {
    let options = LaunchOptions::default_builder()
        .path(Some(path.to_owned()))
        .sandbox(false)
        .window_size(Some(size))
        // Containers often have a tiny /dev/shm; no GPU here.
        .args(vec![std::ffi::OsStr::new("--disable-dev-shm-usage"), std::ffi::OsStr::new("--disable-gpu")])
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    Browser::new(options).expect("Chromium starts")
}

/// Evaluate `js` in the page; the result comes back through JSON.
fn eval(tab: &Tab, js: &str) -> Value {
    let json = tab.evaluate(&format!("JSON.stringify(({js}))"), false).unwrap().value;
    json.and_then(|v| v.as_str().and_then(|s| serde_json::from_str(s).ok())).unwrap_or(Value::Null)
}

/// Wait until `js` evaluates to true.
fn until(tab: &Tab, js: &str, what: &str) {
    for _ in 0..400 {
        if eval(tab, js) == Value::Bool(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!(
        "timed out waiting for {what}; the log shows: {}",
        eval(tab, "document.querySelector('.bzb-log').innerText")
    );
}

fn bot_count(tab: &Tab) -> u64 {
    eval(tab, "document.querySelectorAll('.bzb-bot[data-action]').length").as_u64().unwrap()
}

fn last_bot(tab: &Tab) -> (String, String) {
    let v = eval(
        tab,
        "(() => { const m = [...document.querySelectorAll('.bzb-bot[data-action]')].pop(); return [m.dataset.action, m.innerText]; })()",
    );
    (v[0].as_str().unwrap().to_owned(), v[1].as_str().unwrap().to_owned())
}

/// Type `text` into the widget's box and press Enter; wait for the reply.
fn ask(tab: &Tab, text: &str) -> (String, String) {
    let before = bot_count(tab);
    tab.wait_for_element("#bzb-input").unwrap().click().unwrap();
    tab.type_str(text).unwrap();
    tab.press_key("Enter").unwrap();
    until(tab, &format!("document.querySelectorAll('.bzb-bot[data-action]').length > {before}"), text);
    last_bot(tab)
}

fn click(tab: &Tab, selector: &str) -> (String, String) {
    let before = bot_count(tab);
    tab.wait_for_element(selector).unwrap().click().unwrap();
    until(tab, &format!("document.querySelectorAll('.bzb-bot[data-action]').length > {before}"), selector);
    last_bot(tab)
}

fn screenshot(tab: &Tab, name: &str) {
    let png = tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true).unwrap();
    let dir = root().join("docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_uses_the_widget_from_question_to_rating() {
    let Some(chromium) = chromium() else { return };
    let s = TestServer::start("").await;
    // An answer with markup: it must be shown as text, never run.
    std::fs::write(
        s.dir.path().join("knowledge/zz-markup.md"),
        "# 测试\n## 标记测试专用问题 {#markup}\n**加粗**说明 <script>window.__pwned = 1</script> <img src=x onerror=\"window.__pwned = 2\">\n",
    )
    .unwrap();
    assert_eq!(s.reload(TOKEN).await.0, 200);
    let (base, log) = (s.base.clone(), s.dir.path().join("turns.jsonl"));
    tokio::task::spawn_blocking(move || {
        let desktop = browser(&chromium, (1280, 860));
        let tab = desktop.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(20));
        tab.navigate_to(&format!("{base}/")).unwrap().wait_until_navigated().unwrap();
        until(&tab, "document.querySelector('.bzb-log .bzb-bot') !== null", "the greeting");

        // Type a question, see the answer.
        let (action, text) = ask(&tab, "WIFI免费吗");
        assert_eq!(action, "answer", "{text}");
        assert!(text.contains("WLAN") || text.contains("免费"), "{text}");
        // 👎 on it.
        tab.wait_for_element(".bzb-feedback .bzb-down").unwrap().click().unwrap();
        until(&tab, "document.querySelector('.bzb-feedback .bzb-down').getAttribute('aria-pressed') === 'true'", "👎");

        // A clarification, answered by a click on a choice.
        let (action, _) = ask(&tab, "宽带");
        assert_eq!(action, "clarify");
        let (action, text) = click(&tab, ".bzb-choice");
        assert_eq!(action, "answer", "{text}");
        // A related question, clicked.
        let (action, text) = click(&tab, ".bzb-related");
        assert!(["answer", "clarify"].contains(&action.as_str()), "{action}: {text}");

        // The conversation survives a page reload.
        let shown = bot_count(&tab);
        tab.reload(false, None).unwrap().wait_until_navigated().unwrap();
        until(
            &tab,
            &format!("document.querySelectorAll('.bzb-bot[data-action]').length === {shown}"),
            "the restored log",
        );

        // A complaint hands off; the rating panel appears; rate 4.
        let (action, text) = ask(&tab, "你们的服务太差了，我要投诉");
        assert_eq!(action, "handoff", "{text}");
        until(&tab, "document.querySelector('.bzb-handoff') !== null", "the hand-off notice");
        screenshot(&tab, "widget-desktop.png");
        tab.wait_for_element(".bzb-star[data-score='4']").unwrap().click().unwrap();
        until(&tab, "document.querySelector('.bzb-log').innerText.includes('感谢您的评价')", "the thank-you");
        drop(tab);

        // Phone width.
        let phone = browser(&chromium, (390, 844));
        let tab = phone.new_tab().unwrap();
        tab.call_method(Emulation::SetDeviceMetricsOverride {
            width: 390,
            height: 844,
            device_scale_factor: 2.0,
            mobile: true,
            scale: None,
            screen_width: None,
            screen_height: None,
            position_x: None,
            position_y: None,
            dont_set_visible_size: None,
            screen_orientation: None,
            viewport: None,
            display_feature: None,
            device_posture: None,
        })
        .unwrap();
        tab.navigate_to(&format!("{base}/")).unwrap().wait_until_navigated().unwrap();
        until(&tab, "document.querySelector('.bzb-log .bzb-bot') !== null", "the greeting on a phone");
        // (A fresh session.) Markup in an answer is text.
        let (action, text) = ask(&tab, "标记测试专用问题");
        assert_eq!(action, "answer", "{text}");
        assert!(text.contains("<script>window.__pwned = 1</script>"), "{text}");
        assert_eq!(eval(&tab, "typeof window.__pwned"), Value::from("undefined"));
        assert_eq!(eval(&tab, "document.querySelectorAll('.bzb-log script, .bzb-log img').length"), Value::from(0));
        assert_eq!(
            eval(&tab, "[...document.querySelectorAll('.bzb-log strong')].some(s => s.innerText === '加粗')"),
            Value::Bool(true)
        );

        let (action, _) = ask(&tab, "宽带");
        assert_eq!(action, "clarify");
        let width = eval(&tab, "document.querySelector('.bzb-panel').getBoundingClientRect().width").as_f64().unwrap();
        assert!((380.0..=390.0).contains(&width), "the panel fills a phone screen: {width}");
        screenshot(&tab, "widget-phone.png");

        // A request to log in offers the entries near enough as choice buttons, and a
        // click on one serves it.
        let (action, text) = ask(&tab, "有个什么彩铃业务每月扣我钱 我要取消掉");
        assert_eq!(action, "fallback", "{text}");
        // Right under the reply: the last thing in the log.
        let last_choices = "document.querySelector('.bzb-log').lastElementChild.querySelectorAll('.bzb-choice')";
        assert!(eval(&tab, &format!("{last_choices}.length")).as_u64().is_some_and(|n| n > 0), "{text}");
        let before = bot_count(&tab);
        eval(&tab, &format!("{last_choices}[0].click()"));
        until(
            &tab,
            &format!("document.querySelectorAll('.bzb-bot[data-action]').length > {before}"),
            "the login choice",
        );
        let (action, text) = last_bot(&tab);
        assert!(["answer", "handoff"].contains(&action.as_str()), "{action}: {text}");
    })
    .await
    .unwrap();

    // The turn log holds all of it.
    let text = std::fs::read_to_string(&log).unwrap();
    let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let has = |f: &dyn Fn(&Value) -> bool| records.iter().any(f);
    assert!(has(&|r| r["action"] == "answer" && r["match_id"] == "wlan-free"), "{text}");
    assert!(has(&|r| r["action"] == "clarify" && r["text"] == "宽带"), "{text}");
    assert!(has(&|r| r["action"] == "feedback" && r["helpful"] == false), "{text}");
    assert!(has(&|r| r["action"] == "handoff" && r["handoff_reason"] == "complaint"), "{text}");
    assert!(has(&|r| r["action"] == "rating" && r["score_given"] == 4), "{text}");
    let turns = records.iter().filter(|r| r["action"] != "feedback" && r["action"] != "rating");
    assert!(turns.clone().count() >= 5 && turns.into_iter().all(|r| r["channel"] == "web"), "{text}");
}

/// Wait until `js` evaluates to true in the agent's page.
fn until_agent(tab: &Tab, js: &str, what: &str) {
    for _ in 0..400 {
        if eval(tab, js) == Value::Bool(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("timed out waiting for {what}; the agent's page shows: {}", eval(tab, "document.body.innerText"));
}

fn type_into(tab: &Tab, selector: &str, text: &str) {
    tab.wait_for_element(selector).unwrap().click().unwrap();
    tab.type_str(text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_and_an_agent_talk_in_the_widget_and_the_agent_workspace() {
    let Some(chromium) = chromium() else { return };
    let s = TestServer::start("[desk]\nlive_agents = true\n").await;
    let (base, log) = (s.base.clone(), s.dir.path().join("turns.jsonl"));
    tokio::task::spawn_blocking(move || {
        // Two browsers: the customer's and the agent's.
        let customer_browser = browser(&chromium, (1280, 860));
        let customer = customer_browser.new_tab().unwrap();
        customer.set_default_timeout(Duration::from_secs(20));
        customer.navigate_to(&format!("{base}/")).unwrap().wait_until_navigated().unwrap();
        until(&customer, "document.querySelector('.bzb-log .bzb-bot') !== null", "the greeting");
        let agent_browser = browser(&chromium, (1280, 860));
        let agent = agent_browser.new_tab().unwrap();
        agent.set_default_timeout(Duration::from_secs(20));
        agent.navigate_to(&format!("{base}/agent")).unwrap().wait_until_navigated().unwrap();
        type_into(&agent, "#agent-name", "王芳");
        type_into(&agent, "#token", crate::common::server::AGENT_TOKEN);
        agent.wait_for_element("#login").unwrap().click().unwrap();
        until_agent(&agent, "document.querySelector('#status').innerText === '已连接'", "the agent's event stream");

        // A complaint hands off: the customer waits, the agent's queue shows it.
        let (action, _) = ask(&customer, "你们的服务太差了，宽带三天两头断，我要投诉");
        assert_eq!(action, "handoff");
        until(&customer, "!document.querySelector('.bzb-status').hidden", "the waiting line");
        let waiting = eval(&customer, "document.querySelector('.bzb-status').innerText");
        assert!(waiting.as_str().unwrap().contains("等待"), "{waiting}");
        assert_eq!(eval(&customer, "document.querySelector('.bzb-rate') === null"), Value::Bool(true), "no rating yet");
        until_agent(&agent, "document.querySelector('#queue li[data-session]') !== null", "the queue");
        agent.wait_for_element("#queue li[data-session]").unwrap().click().unwrap();
        until_agent(&agent, "!document.querySelector('#claim').disabled", "the claim button");
        agent.wait_for_element("#claim").unwrap().click().unwrap();
        until(&customer, "document.querySelector('.bzb-status').innerText.includes('王芳')", "the agent's name");

        // The agent picks a suggested answer, edits nothing, sends it.
        until_agent(&agent, "!document.querySelector('#reply').disabled", "the reply box");
        until_agent(&agent, "document.querySelector('.suggestion') !== null", "suggested answers");
        agent.wait_for_element(".suggestion").unwrap().click().unwrap();
        until_agent(&agent, "document.querySelector('#reply').value.length > 0", "the suggestion in the reply box");
        agent.wait_for_element("#send").unwrap().click().unwrap();
        until(&customer, "document.querySelectorAll('.bzb-agent').length === 1", "the agent's first message");
        assert_eq!(eval(&customer, "document.querySelector('.bzb-agent .bzb-name').innerText"), Value::from("王芳"));

        // The customer answers: the bot stays silent, the agent reads it.
        let bots = bot_count(&customer);
        type_into(&customer, "#bzb-input", "我家在城东，今天早上又断了");
        customer.press_key("Enter").unwrap();
        until_agent(
            &agent,
            "document.querySelector('#transcript').innerText.includes('今天早上又断了')",
            "the customer's reply",
        );
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(bot_count(&customer), bots, "the bot does not answer while the agent holds the conversation");

        // The customer reloads the page; a message sent meanwhile arrives once.
        customer.reload(false, None).unwrap().wait_until_navigated().unwrap();
        type_into(&agent, "#reply", "已为您安排师傅今天下午上门检修。");
        agent.wait_for_element("#send").unwrap().click().unwrap();
        until(&customer, "document.querySelectorAll('.bzb-agent').length === 2", "the second message after a reload");
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(eval(&customer, "document.querySelectorAll('.bzb-agent').length"), Value::from(2));
        screenshot(&customer, "widget-agent.png");
        screenshot(&agent, "agent-workspace.png");

        // The agent closes it as solved: the customer is asked for a rating.
        agent.wait_for_element("#close-resolved").unwrap().click().unwrap();
        until(&customer, "document.querySelector('.bzb-rate') !== null", "the rating after the close");
        until(&customer, "document.querySelector('.bzb-status').hidden", "the agent line gone");
        customer.wait_for_element(".bzb-star[data-score='5']").unwrap().click().unwrap();
        until(&customer, "document.querySelector('.bzb-log').innerText.includes('感谢您的评价')", "the thank-you");
        // And the bot answers again.
        let (action, _) = ask(&customer, "WIFI免费吗");
        assert_eq!(action, "answer");
    })
    .await
    .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    for action in ["agent_claim", "agent_message", "agent_close", "rating"] {
        assert!(text.contains(&format!("\"action\":\"{action}\"")), "{action} not in {text}");
    }
}
