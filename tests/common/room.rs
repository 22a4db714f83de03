//! A control room under test: a [`World`] whose brl.toml points tmux at a private socket, `brl up
//! --no-tui` started as a child, and a guard that stops only what this test started — the child,
//! the workers it recorded, and the tmux server on this test's own socket.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::World;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct Room {
    pub w: World,
    pub socket: String,
    pub child: Option<Child>,
    pub out: PathBuf,
}

/// Wait for `f`, up to `secs`, failing with `what`.
pub fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn signal(pid: u32, sig: i32) {
    // SAFETY: sends a signal to a process this test started, by its pid.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

impl Room {
    /// `sessions` in brl.toml, `agent` as the agent, `extra` appended to the config. The tmux
    /// socket is private to this test; checks and scheduling run every second; no HTTP unless
    /// `extra` has a [server] table.
    pub fn new(sessions: usize, agent: &str, extra: &str) -> Room {
        let w = World::new(sessions.max(3));
        let socket = format!(
            "brl-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let server = if extra.contains("[server]") {
            String::new()
        } else {
            "[server]\nenabled = false\n".to_string()
        };
        let scheduler = if extra.contains("[scheduler]") {
            String::new()
        } else {
            "[scheduler]\ninterval_secs = 1\n".to_string()
        };
        w.write_config(
            sessions,
            agent,
            60,
            &format!("{extra}\n[tmux]\nsocket = \"{socket}\"\ncheck_secs = 1\n{server}{scheduler}"),
        );
        let out = w.home.join("up.out");
        Room {
            w,
            socket,
            child: None,
            out,
        }
    }

    /// Start `brl up --no-tui` with `args`, no terminal: stdin closed, stdout to `up.out`.
    pub fn up(&mut self, args: &[&str]) {
        self.up_with_env(args, &[]);
    }

    /// [`Room::up`] with extra environment variables for the control room (and so its panes).
    pub fn up_with_env(&mut self, args: &[&str], env: &[(&str, &str)]) {
        self.up_with(args, |c| {
            c.envs(env.iter().copied());
        });
    }

    /// [`Room::up`] with the command adjusted by `f` first (e.g. variables removed).
    pub fn up_with(&mut self, args: &[&str], f: impl FnOnce(&mut Command)) {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.out)
            .expect("open up.out");
        let mut cmd = self.w.spawnable();
        cmd.args(["up", "--no-tui"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::piped());
        f(&mut cmd);
        self.child = Some(cmd.spawn().expect("spawn brl up"));
    }

    /// SIGTERM the control room and wait for it; returns its exit status and how long it took.
    pub fn stop(&mut self) -> (std::process::ExitStatus, Duration) {
        let mut child = self.child.take().expect("a control room runs");
        let start = Instant::now();
        signal(child.id(), libc::SIGTERM);
        let status = child.wait().expect("wait");
        (status, start.elapsed())
    }

    /// Tagged panes on this test's socket: (pane id, session tag, home tag, dead, tmux session).
    pub fn panes(&self) -> Vec<(String, String, String, bool, String)> {
        let out = Command::new("tmux")
            // -u: tab and non-ASCII printed as they are whatever the test runner's locale.
            .args(["-u", "-L", &self.socket, "list-panes", "-a", "-F"])
            .arg("#{pane_id}\t#{@brl_session}\t#{@brl_home}\t#{pane_dead}\t#{session_name}")
            .output()
            .expect("tmux runs (the test runner installs it)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() == 5 && !f[1].is_empty()).then(|| {
                    (
                        f[0].to_string(),
                        f[1].to_string(),
                        f[2].to_string(),
                        f[3] == "1",
                        f[4].to_string(),
                    )
                })
            })
            .collect()
    }

    /// The tmux session this home's panes live in (derived from the home when brl.toml names
    /// none, as in every Room).
    pub fn tmux_session(&self) -> String {
        brl::home::Home::new(&self.w.home)
            .load_config()
            .expect("the room's brl.toml is valid")
            .tmux
            .session
    }

    pub fn tmux(&self, args: &[&str]) -> bool {
        Command::new("tmux")
            .args(["-u", "-L", &self.socket])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Log entries of `kind`.
    pub fn entries(&self, kind: &str) -> Vec<serde_json::Value> {
        self.w.entries(kind)
    }

    /// Live workers: (session, pid) from their life locks.
    pub fn workers(&self) -> Vec<(String, u32)> {
        let Ok(dir) = std::fs::read_dir(self.w.home.join("logs/locks")) else {
            return vec![];
        };
        let mut v: Vec<(String, u32)> = dir
            .filter_map(|e| {
                let p = e.ok()?.path();
                let s = p
                    .file_name()?
                    .to_str()?
                    .strip_prefix("worker-")?
                    .strip_suffix(".lock")?
                    .to_string();
                if !brl::store::atomic::LockGuard::is_held(&p).ok()? {
                    return None;
                }
                let pid = std::fs::read_to_string(&p).ok()?.trim().parse().ok()?;
                Some((s, pid))
            })
            .collect();
        v.sort();
        v
    }

    pub fn control(&self, session: &str) -> brl::store::control::Control {
        brl::store::control::SessionControl::new(&brl::home::Home::new(&self.w.home), session)
            .load()
            .expect("control file")
    }
}

impl Room {
    /// What a failing test needs to see: the control room's output, the log, the panes' output.
    fn dump(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let mut err = String::new();
            if let Some(mut e) = c.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            eprintln!("--- brl up stderr:\n{err}");
        }
        let out = std::fs::read_to_string(&self.out).unwrap_or_default();
        eprintln!("--- brl up stdout:\n{out}");
        let log = std::fs::read_to_string(self.w.home.join("logs/experiment-log.jsonl"))
            .unwrap_or_default();
        eprintln!("--- experiment log:\n{log}");
        for p in self.panes() {
            let text = Command::new("tmux")
                .args(["-L", &self.socket, "capture-pane", "-p", "-t", &p.0])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            eprintln!("--- pane {} ({}):\n{}", p.0, p.1, text.trim_end());
        }
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump();
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // This test's own tmux server: its panes get SIGHUP, so workers interrupt their cycles
        // and stop their agents; any worker still alive after that is killed by its pid.
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        remove_socket_file(&self.socket);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.workers().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        for (_, pid) in self.workers() {
            signal(pid, libc::SIGKILL);
        }
    }
}

/// A tmux server on a private socket that this test started; killed when dropped.
pub struct Server(pub String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        remove_socket_file(&self.0);
    }
}

/// tmux 3.3a leaves its socket file behind after kill-server; remove this test's own.
pub fn remove_socket_file(socket: &str) {
    let dir = std::env::var_os("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let _ = std::fs::remove_file(PathBuf::from(dir).join(format!("tmux-{uid}")).join(socket));
}
