//! The configuration layers and their merge.

use std::path::Path;

use toml::{Table, Value};

use super::{Config, ConfigError, validate};

/// The compiled-in defaults, also the documented reference of every key.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

const ENV_PREFIX: &str = "BIZBOT__";

/// Load defaults, then `file` if given, then `BIZBOT__…` variables from the process
/// environment, and validate.
pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
    load_from(file, std::env::vars())
}

/// As [`load`] with the environment given explicitly (for tests).
pub fn load_from(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
    let mut table: Table = parse_table(DEFAULT_TOML, "config/default.toml")?;
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        merge(&mut table, parse_table(&text, &path.display().to_string())?);
    }
    let mut vars: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
    vars.sort();
    for (key, raw) in vars {
        let path: Vec<String> = key[ENV_PREFIX.len()..].split("__").map(str::to_lowercase).collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Parse { origin: key, message: "expected BIZBOT__SECTION__KEY".into() });
        }
        set_path(&mut table, &path, env_value(&raw));
    }
    let origin = file.map_or_else(|| "configuration".to_owned(), |p| p.display().to_string());
    let mut config: Config = Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Parse { origin, message: e.to_string() })?;
    if let Some(folder) = file.and_then(Path::parent) {
        resolve_paths(&mut config, folder);
    }
    let problems = validate(&config);
    if problems.is_empty() { Ok(config) } else { Err(ConfigError::Invalid { problems }) }
}

/// Relative paths of every layer are read from the config file's folder, so the
/// bot finds its knowledge and model whatever folder it is started from. Empty
/// paths (a feature switched off) stay empty.
fn resolve_paths(config: &mut Config, folder: &Path) {
    let paths = [
        &mut config.knowledge.path,
        &mut config.model.model_dir,
        &mut config.model.second_model_dir,
        &mut config.model.runtime_library,
        &mut config.model.cache_dir,
        &mut config.log.path,
        &mut config.desk.dead_letter,
    ];
    for path in paths {
        if !path.as_os_str().is_empty() && path.is_relative() {
            *path = folder.join(&*path);
        }
    }
}

fn parse_table(text: &str, origin: &str) -> Result<Table, ConfigError> {
    text.parse::<Table>().map_err(|e| ConfigError::Parse { origin: origin.to_owned(), message: e.to_string() })
}

/// Deep merge of one config layer over another: tables merge key by key, anything
/// else is replaced.
pub fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

fn set_path(table: &mut Table, path: &[String], value: Value) {
    let (last, parents) = path.split_last().expect("path has at least one part");
    let mut current = table;
    for p in parents {
        let entry = current.entry(p.clone()).or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        current = entry.as_table_mut().expect("just made a table");
    }
    current.insert(last.clone(), value);
}

/// An environment value as TOML (`0.5`, `true`, `["a"]`), else as a string.
fn env_value(raw: &str) -> Value {
    format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_shipped_phrases_take_swearing_at_the_company_but_not_a_crime_or_a_mother() {
        use crate::dialogue::HandoffReason;
        use crate::dialogue::escalation::detect;
        let shipped = load_from(None, env(&[])).expect("the shipped defaults load").escalation;
        let phrase = |text: &str| detect(text, None, &shipped) == Some(HandoffReason::Complaint);
        assert!(phrase("流量没用多少给我扣了六十块 抢劫啊 tmd"));
        assert!(phrase("这跟抢劫一样 一个月扣我两百"));
        assert!(!phrase("手机被抢劫了 卡怎么挂失"));
        assert!(!phrase("给我妈的号充值 怎么弄"));
        assert!(!phrase("卧槽 这么快就到了"));
    }

    #[test]
    fn defaults_parse_and_validate() {
        let config = load_from(None, env(&[])).expect("default config is valid");
        assert_eq!(config.thresholds.answer, 0.72);
        assert_eq!(config.model.model_dir, std::path::PathBuf::from("models/e5-small"));
        // A lower `answer` alone is valid: the lone-entry threshold is capped by it.
        load_from(None, env(&[("BIZBOT__THRESHOLDS__ANSWER", "0.3")])).expect("answer below answer_alone");
    }

    #[test]
    fn relative_paths_are_read_from_the_config_files_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bizbot.toml");
        std::fs::write(&file, "[knowledge]\npath = \"kb\"\n[log]\npath = \"/var/log/bizbot/turns.jsonl\"\n").unwrap();
        let config = load_from(Some(&file), env(&[("BIZBOT__MODEL__CACHE_DIR", "")])).unwrap();
        assert_eq!(config.knowledge.path, dir.path().join("kb"));
        assert_eq!(config.model.model_dir, dir.path().join("models/e5-small"), "defaults too");
        assert_eq!(config.log.path, std::path::PathBuf::from("/var/log/bizbot/turns.jsonl"), "absolute stays");
        assert_eq!(config.model.cache_dir, std::path::PathBuf::new(), "empty (off) stays empty");
        // ./bizbot.toml found in the working directory: paths stay as written.
        let here = load_from(Some(std::path::Path::new("bizbot.toml")), env(&[])).unwrap();
        assert_eq!(here.knowledge.path, std::path::PathBuf::from("knowledge"));
    }

    #[test]
    fn file_then_environment_override() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bizbot.toml");
        std::fs::write(&file, "[retrieval]\nsemantic_weight = 0.2\ntop_k = 9\n").unwrap();
        let config =
            load_from(Some(&file), env(&[("BIZBOT__RETRIEVAL__TOP_K", "3"), ("BIZBOT__KNOWLEDGE__PATH", "kb dir")]))
                .unwrap();
        assert_eq!(config.retrieval.semantic_weight, 0.2);
        assert_eq!(config.retrieval.top_k, 3);
        assert_eq!(config.knowledge.path, dir.path().join("kb dir"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bizbot.toml");
        std::fs::write(&file, "[thresholds]\nanswr = 0.5\n").unwrap();
        let err = load_from(Some(&file), env(&[])).unwrap_err().to_string();
        assert!(err.contains("answr"), "{err}");
        let err = load_from(None, env(&[("BIZBOT__NOPE__X", "1")])).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn every_violation_is_listed() {
        let vars = env(&[
            ("BIZBOT__THRESHOLDS__CLARIFY", "0.9"),
            ("BIZBOT__RETRIEVAL__SEMANTIC_WEIGHT", "1.5"),
            ("BIZBOT__THRESHOLDS__ANSWER_ALONE", "1.2"),
            ("BIZBOT__MODEL__SECOND_MODEL_DIR", "models/use-multilingual"),
            ("BIZBOT__MODEL__SECOND_WEIGHT", "1"),
            ("BIZBOT__RETRIEVAL__HUB_PENALTY", "-0.1"),
            ("BIZBOT__RETRIEVAL__HUB_NEIGHBOURS", "0"),
        ]);
        match load_from(None, vars).unwrap_err() {
            ConfigError::Invalid { problems } => {
                assert_eq!(problems.len(), 6, "{problems:?}");
                assert!(problems.iter().any(|p| p.starts_with("retrieval.hub_penalty = -0.1")), "{problems:?}");
                assert!(problems.iter().any(|p| p.starts_with("retrieval.hub_neighbours must")), "{problems:?}");
                assert!(problems.iter().any(|p| p.starts_with("thresholds.answer_alone = 1.2")), "{problems:?}");
                assert!(problems.iter().any(|p| p.starts_with("model.second_weight = 1 ")), "{problems:?}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    /// The shipped escalation rules: ordinary questions stay questions, requests for a
    /// person and complaints in customers' words hand off.
    #[test]
    fn shipped_rules_leave_ordinary_questions_alone() {
        let shipped = load_from(None, std::iter::empty()).unwrap().escalation;
        for ordinary in [
            "退款需要客服审核吗",
            "换货要客服确认吗",
            "原来客服说可以退",
            "后来客服又说不行",
            "可以转账给客服吗",
            "怎么换客户经理",
            "退款需要多久，客服说三天",
            "我要退款，客服说不行",
            "怎么联系客服",
            "客服电话多少",
            "人工客服几点下班",
            "漫游怎么关 怕乱扣钱",
            "合约没满 解约要赔钱不",
            "有人打电话说是你们客服 是骗子吗",
            "someone stole my phone",
            "想反映营业厅工作人员的问题 走什么渠道",
            "晚上11点还有人工客服在线吗",
            "物流显示到了 然后再也不动了",
        ] {
            assert_eq!(crate::dialogue::escalation::detect(ordinary, None, &shipped), None, "{ordinary}");
        }
        for person in [
            "给我转个客服",
            "帮忙转一下客服",
            "我要找客服",
            "找你们主管",
            "客服呢",
            "请安排客服给我回电",
            "打了好几次电话都没人接 给我转人工",
            "有没有工作人员",
            "我不想跟你说了",
        ] {
            assert_eq!(
                crate::dialogue::escalation::detect(person, None, &shipped),
                Some(crate::dialogue::HandoffReason::HumanRequested),
                "{person}"
            );
        }
        for complaint in [
            "还有天理吗",
            "你们在耍我吗",
            "太可怕了 乱扣我话费",
            "你们还要不要脸 乱扣我话费",
            "态度 恶劣",
            "停机也不通知 这个损失谁赔",
            "再也不会用你们的了",
        ] {
            assert_eq!(
                crate::dialogue::escalation::detect(complaint, None, &shipped),
                Some(crate::dialogue::HandoffReason::Complaint),
                "{complaint}"
            );
        }
    }
}
