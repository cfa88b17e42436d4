//! A real Redis server (Debian's `redis-server`, installed by
//! scripts/setup-system.sh) on a free loopback port, without persistence.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`; killed when dropped.
pub(crate) struct RedisServer {
    pub(crate) port: u16,
    child: Option<Child>,
}

/// `redis-server`, or `None` (with a note) when it is not installed and
/// BIZBOT_REQUIRE_TEST_DEPS (the README's test command) is unset.
pub(crate) fn redis_server() -> Option<PathBuf> {
    let path = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].iter().map(PathBuf::from).find(|p| p.is_file());
    if path.is_none() {
        assert!(
            std::env::var_os("BIZBOT_REQUIRE_TEST_DEPS").is_none(),
            "redis-server is missing: run scripts/setup-system.sh"
        );
        eprintln!("no redis-server: skipping the shared-session test (run scripts/setup-system.sh)");
    }
    path
}

impl RedisServer {
    /// Start on a free port.
    pub(crate) fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = Self { port, child: None };
        server.restart();
        server
    }

    /// The URL for `session.redis_url`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kill the server (SIGKILL: no goodbye to clients) and wait until its port is closed.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start again on the same port (empty: no persistence).
    pub(crate) fn restart(&mut self) {
        self.kill();
        let path = redis_server().expect("redis-server installed");
        let child = Command::new(path)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not open port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
