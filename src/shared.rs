//! Sessions in Redis (`session.store = "redis"`), shared by every replica that
//! points at the same server and kept across restarts.
//!
//! A session is one JSON value under `{prefix}s:{id}` with the session TTL, renewed
//! by every turn. A turn holds `{prefix}lock:{id}` (`SET NX PX`, a random token,
//! `session.lock_ms`): two turns of one session arriving at two replicas run one
//! after the other, and a replica that dies mid-turn blocks the session at most
//! `lock_ms`. The session is saved and the lock released in one script that first
//! checks the token, so a turn whose lock ran out never overwrites a newer turn.
//!
//! Redis being down is an error per call ([`StoreError`]); the connection is
//! re-established on a later call once Redis is back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::dialogue::{Session, SessionConfig};

/// Redis could not be reached or answered with an error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("session store (Redis) unavailable: {0}")]
pub struct StoreError(String);

impl StoreError {
    /// An error of another kind (a value that does not serialise, a timeout).
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        Self(e.to_string())
    }
}

/// A session's lock held by this process: released by
/// [`RedisSessions::save_and_unlock`] or [`RedisSessions::unlock`], or expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLock {
    session_id: String,
    token: String,
}

/// Seconds and milliseconds Redis operations may take before they count as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(1000);

/// Saves a session only while its lock still carries our token, then releases
/// the lock when ARGV[4] is "1".
const SAVE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
  if ARGV[4] == '1' then
    redis.call('DEL', KEYS[1])
  end
  return 1
end
return 0";

/// Releases a lock only while it still carries our token.
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// The session store in Redis.
pub struct RedisSessions {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
    prefix: String,
    ttl_secs: u64,
    lock_ms: u64,
    tokens: AtomicU64,
    save_script: redis::Script,
    unlock_script: redis::Script,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessions").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisSessions {
    /// A store for `config` (`redis_url`, `redis_prefix`, `ttl_secs`, `lock_ms`).
    /// Connects on first use, so the bot starts while Redis is still down.
    pub fn new(config: &SessionConfig) -> Result<Self, StoreError> {
        let client = redis::Client::open(config.redis_url.as_str())?;
        Ok(Self {
            client,
            connection: tokio::sync::Mutex::new(None),
            prefix: config.redis_prefix.clone(),
            ttl_secs: config.ttl_secs.max(1),
            lock_ms: config.lock_ms.max(1),
            tokens: AtomicU64::new(0),
            save_script: redis::Script::new(SAVE),
            unlock_script: redis::Script::new(UNLOCK),
        })
    }

    /// The shared connection (opened on first use).
    pub(crate) async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let mut held = self.connection.lock().await;
        if let Some(connection) = held.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection =
            tokio::time::timeout(CONNECT_TIMEOUT * 2, ConnectionManager::new_with_config(self.client.clone(), config))
                .await
                .map_err(|_| StoreError("connecting timed out".into()))??;
        *held = Some(connection.clone());
        Ok(connection)
    }

    /// The client, for connections of their own (subscriptions).
    pub(crate) fn client(&self) -> &redis::Client {
        &self.client
    }

    /// `session.redis_prefix`: every key of this deployment starts with it.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Session TTL in seconds.
    pub(crate) fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    fn session_key(&self, id: &str) -> String {
        format!("{}s:{id}", self.prefix)
    }

    fn lock_key(&self, id: &str) -> String {
        format!("{}lock:{id}", self.prefix)
    }

    fn new_token(&self) -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        format!("{}-{nanos}-{}", std::process::id(), self.tokens.fetch_add(1, Ordering::Relaxed))
    }

    /// Take session `id`'s lock, trying until `wait` has passed: `None` when
    /// another turn (on any replica) still holds it.
    pub async fn lock(&self, id: &str, wait: Duration) -> Result<Option<SharedLock>, StoreError> {
        let mut connection = self.connection().await?;
        let key = self.lock_key(id);
        let token = self.new_token();
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(5);
        loop {
            let taken: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(self.lock_ms)
                .query_async(&mut connection)
                .await?;
            if taken.is_some() {
                return Ok(Some(SharedLock { session_id: id.to_owned(), token }));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Session `id` as last saved; `None` when new or expired. A value that does
    /// not parse (written by an incompatible version) counts as expired.
    pub async fn load(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let mut connection = self.connection().await?;
        let json: Option<String> = connection.get(self.session_key(id)).await?;
        Ok(json.and_then(|json| match serde_json::from_str(&json) {
            Ok(session) => Some(session),
            Err(e) => {
                tracing::warn!("session in Redis does not parse, starting afresh: {e}");
                None
            }
        }))
    }

    /// Save `session` and release `lock`: `false` (and nothing saved) when the
    /// lock had run out, so another turn may have moved the session on.
    pub async fn save_and_unlock(&self, lock: &SharedLock, session: &Session) -> Result<bool, StoreError> {
        self.save(lock, session, true).await
    }

    /// Save `session` and keep `lock` (release it with [`unlock`](Self::unlock)):
    /// `false` (and nothing saved) when the lock had run out.
    pub async fn save_locked(&self, lock: &SharedLock, session: &Session) -> Result<bool, StoreError> {
        self.save(lock, session, false).await
    }

    async fn save(&self, lock: &SharedLock, session: &Session, release: bool) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
        let json = serde_json::to_string(session).map_err(|e| StoreError(e.to_string()))?;
        let saved: i64 = self
            .save_script
            .key(self.lock_key(&lock.session_id))
            .key(self.session_key(&lock.session_id))
            .arg(&lock.token)
            .arg(json)
            .arg(self.ttl_secs)
            .arg(if release { "1" } else { "0" })
            .invoke_async(&mut connection)
            .await?;
        Ok(saved == 1)
    }

    /// Release `lock` without saving.
    pub async fn unlock(&self, lock: &SharedLock) -> Result<(), StoreError> {
        let mut connection = self.connection().await?;
        let _: i64 = self
            .unlock_script
            .key(self.lock_key(&lock.session_id))
            .arg(&lock.token)
            .invoke_async(&mut connection)
            .await?;
        Ok(())
    }

    /// Whether session `id` exists.
    pub async fn exists(&self, id: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
        Ok(connection.exists(self.session_key(id)).await?)
    }

    /// Open session `id` empty unless it exists.
    pub async fn open(&self, id: &str) -> Result<(), StoreError> {
        let mut connection = self.connection().await?;
        let json = serde_json::to_string(&Session::default()).map_err(|e| StoreError(e.to_string()))?;
        let _: Option<String> = redis::cmd("SET")
            .arg(self.session_key(id))
            .arg(json)
            .arg("NX")
            .arg("EX")
            .arg(self.ttl_secs)
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    /// Whether this is the first claim of `key` in the last `ttl_secs` (across
    /// every replica): a message id a platform may send again.
    pub async fn first_claim(&self, key: &str, ttl_secs: u64) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}once:{key}", self.prefix))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(ttl_secs.max(1))
            .query_async(&mut connection)
            .await?;
        Ok(set.is_some())
    }

    /// Hold (take or renew) the lease `key` as `holder` for `ttl_ms`: `true` while
    /// this holder has it. One replica at a time does a job that must run once.
    pub async fn lease(&self, key: &str, holder: &str, ttl_ms: u64) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
        let held: i64 = redis::Script::new(
            "local v = redis.call('GET', KEYS[1]) \
             if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end \
             if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end \
             return 0",
        )
        .key(format!("{}lease:{key}", self.prefix))
        .arg(holder)
        .arg(ttl_ms.max(1))
        .invoke_async(&mut connection)
        .await?;
        Ok(held == 1)
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection().await?;
        let _: String = redis::cmd("PING").query_async(&mut connection).await?;
        Ok(())
    }
}
