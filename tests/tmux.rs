//! The tmux adapter against a real tmux server, on a private socket per test (never the user's
//! server). Each test kills only the server it started, also when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use brl::tmux::{Layout, NewPane, Pane, Tmux, TmuxError};

/// A private tmux server for one test, killed on drop.
struct Server {
    socket: String,
    tmux: Tmux,
}

impl Server {
    fn start(test: &str) -> Server {
        match Command::new("tmux").arg("-V").output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!("`tmux -V` failed: {}", String::from_utf8_lossy(&out.stderr)),
            Err(e) => panic!(
                "these tests need a real tmux on PATH (install it, e.g. `apt-get install tmux`): {e}"
            ),
        }
        let socket = format!("brl-test-{}-{test}", std::process::id());
        Server {
            tmux: Tmux::new(Some(&socket)),
            socket,
        }
    }

    /// Runs raw tmux on this server, panicking with its stderr on failure.
    fn raw(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn create(&self, home: &str, session: &str, command: &str, layout: &Layout) -> String {
        self.tmux
            .create(&NewPane {
                tmux_session: "brl",
                home_tag: home,
                session,
                command,
                pipe_command: None,
                layout,
                cwd: None,
            })
            .unwrap()
    }

    fn panes(&self, home: &str) -> Vec<Pane> {
        let mut panes = self.tmux.panes(home).unwrap();
        panes.sort_by(|a, b| a.session.cmp(&b.session));
        panes
    }
}

impl Drop for Server {
    /// Kills this test's server and removes its socket file (tmux 3.3a leaves it behind).
    fn drop(&mut self) {
        let tmux = |args: &[&str]| {
            Command::new("tmux")
                .args(["-L", &self.socket])
                .args(args)
                .output()
        };
        let socket_path = tmux(&["display-message", "-p", "#{socket_path}"]);
        let _ = tmux(&["kill-server"]);
        if let Ok(out) = socket_path
            && out.status.success()
        {
            let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if path.ends_with(&self.socket) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

fn layout(name: &str) -> Layout {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts");
    Layout::load(&dir, name).unwrap()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn tiled_layout_puts_three_tagged_panes_in_one_window() {
    let server = Server::start("tiled");
    let tiled = layout("tiled");
    let ids: Vec<String> = ["s1", "s2", "s3"]
        .iter()
        .map(|s| server.create("/home/a", s, "sleep 30", &tiled))
        .collect();
    let panes = server.panes("/home/a");
    assert_eq!(panes.len(), 3, "{panes:?}");
    for (pane, (id, session)) in panes.iter().zip(ids.iter().zip(["s1", "s2", "s3"])) {
        assert_eq!(&pane.id, id);
        assert_eq!(pane.session, session);
        assert_eq!(pane.home, "/home/a");
        assert_eq!(pane.tmux_session, "brl");
        assert_eq!(pane.window_name, "sessions");
        assert_eq!(pane.window_id, panes[0].window_id);
        assert!(!pane.dead && pane.pid.is_some(), "{pane:?}");
    }
    let options = server.raw(&["show-options", "-p", "-t", &ids[2], "remain-on-exit"]);
    assert_eq!(options.trim(), "remain-on-exit on");
    let windows = server.raw(&["list-windows", "-t", "=brl", "-F", "#{window_layout}"]);
    assert_eq!(windows.lines().count(), 1, "{windows}");
}

#[test]
fn windows_layout_makes_one_window_per_session() {
    let server = Server::start("windows");
    let windows = layout("windows");
    for s in ["s1", "s2", "s3"] {
        server.create("/home/a", s, "sleep 30", &windows);
    }
    let panes = server.panes("/home/a");
    let names: Vec<&str> = panes.iter().map(|p| p.window_name.as_str()).collect();
    assert_eq!(names, ["s1", "s2", "s3"]);
    let mut ids: Vec<&str> = panes.iter().map(|p| p.window_id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{panes:?}");
}

#[test]
fn dead_pane_is_reported_and_respawn_revives_it() {
    let server = Server::start("respawn");
    let tiled = layout("tiled");
    server.create("/home/a", "s1", "sleep 30", &tiled);
    let id = server.create("/home/a", "s2", "exit 3", &tiled);
    wait_for("s2 to die", || server.panes("/home/a")[1].dead);
    // tmux 3.3a marks a pane dead when its pty closes, and records the exit status when it
    // reaps the process — which, under load, it sometimes only does at the NEXT child exit
    // (the process stays a zombie until then). Give it a moment, then make a child exit.
    let reaped = || server.panes("/home/a")[1].dead_status.is_some();
    let deadline = Instant::now() + Duration::from_secs(2);
    while !reaped() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !reaped() {
        server.raw(&["run-shell", "true"]);
    }
    wait_for("s2's exit status", reaped);
    let dead = &server.panes("/home/a")[1];
    assert_eq!((&dead.id, dead.dead_status, dead.pid), (&id, Some(3), None));
    assert!(!server.panes("/home/a")[0].dead);

    server.tmux.respawn(&id, "sleep 30", None, false).unwrap();
    let alive = &server.panes("/home/a")[1];
    assert_eq!(&alive.id, &id);
    assert_eq!(alive.session, "s2");
    assert!(!alive.dead && alive.pid.is_some(), "{alive:?}");
}

#[test]
fn other_homes_and_untagged_panes_are_not_returned() {
    let server = Server::start("foreign");
    let tiled = layout("tiled");
    server.raw(&["new-session", "-d", "-s", "mine", "sleep 30"]);
    server.create("/home/a", "s1", "sleep 30", &tiled);
    server.create("/home/b", "s1", "sleep 30", &tiled);
    server.raw(&["split-window", "-t", "=mine:", "sleep 30"]);
    let a = server.panes("/home/a");
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].home, "/home/a");
    let b = server.panes("/home/b");
    assert_eq!(b.len(), 1, "{b:?}");
    // Home b got its own window in the shared tmux session, not a split of home a's.
    assert_ne!(a[0].window_id, b[0].window_id);
    assert!(server.panes("").is_empty(), "untagged panes are never ours");
}

#[test]
fn kill_session_spares_other_sessions() {
    let server = Server::start("kill");
    server.raw(&["new-session", "-d", "-s", "brl-other", "sleep 30"]);
    server.create("/home/a", "s1", "sleep 30", &layout("tiled"));
    assert!(server.tmux.session_exists("brl").unwrap());
    assert!(server.tmux.kill_session("brl").unwrap());
    assert!(!server.tmux.session_exists("brl").unwrap());
    assert!(!server.tmux.kill_session("brl").unwrap(), "gone already");
    assert!(server.tmux.session_exists("brl-other").unwrap());
    assert!(server.panes("/home/a").is_empty());
}

#[test]
fn no_server_means_no_panes_and_no_sessions() {
    let server = Server::start("none");
    assert!(server.panes("/home/a").is_empty());
    assert!(!server.tmux.session_exists("brl").unwrap());
    assert!(!server.tmux.kill_session("brl").unwrap());
}

#[test]
fn create_refuses_empty_tags_and_session_names_tmux_would_rename() {
    let server = Server::start("invalid");
    let tiled = layout("tiled");
    let req = NewPane {
        tmux_session: "brl",
        home_tag: "/home/a",
        session: "s1",
        command: "sleep 30",
        pipe_command: None,
        layout: &tiled,
        cwd: None,
    };
    for bad in [
        NewPane {
            home_tag: "",
            ..req
        },
        NewPane { session: "", ..req },
        NewPane {
            tmux_session: "brl.x",
            ..req
        },
    ] {
        let err = server.tmux.create(&bad).unwrap_err();
        assert!(matches!(err, TmuxError::InvalidInput { .. }), "{err}");
    }
    assert!(
        !server.tmux.session_exists("brl").unwrap(),
        "nothing created"
    );
}

#[test]
fn pipe_command_captures_output_and_survives_respawn() {
    let server = Server::start("pipe");
    let dir = tempfile::tempdir().unwrap();
    let log: PathBuf = dir.path().join("s1.log");
    let pipe = format!("cat >> {}", shell_quote(&log));
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let id = server
        .tmux
        .create(&NewPane {
            tmux_session: "brl",
            home_tag: "/home/a",
            session: "s1",
            command: "echo hello; sleep 30",
            pipe_command: Some(&pipe),
            layout: &layout("tiled"),
            cwd: None,
        })
        .unwrap();
    wait_for("hello in the pane log", || read().contains("hello"));

    let pane = |id: &str| {
        server
            .panes("/home/a")
            .into_iter()
            .find(|p| p.id == id)
            .expect("the pane")
    };
    assert!(pane(&id).piped);
    server
        .tmux
        .respawn(&id, "echo again; sleep 30", Some(&pipe), true)
        .unwrap();
    wait_for("the respawned output in the pane log", || {
        read().contains("again")
    });
    assert!(pane(&id).piped, "respawn must leave the pane piped");
    // A dead pane whose pipe was closed: respawn opens a new one.
    server.raw(&["pipe-pane", "-t", &id]);
    server.raw(&["respawn-pane", "-k", "-t", &id, "exit 0"]);
    wait_for("the pane to die", || pane(&id).dead);
    assert!(!pane(&id).piped);
    server
        .tmux
        .respawn(&id, "sleep 0.5; echo third; sleep 30", Some(&pipe), false)
        .unwrap();
    wait_for("output after respawning a dead pane", || {
        read().contains("third")
    });
    assert!(pane(&id).piped);
}

#[test]
fn cwd_sets_the_panes_working_directory() {
    let server = Server::start("cwd");
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    server
        .tmux
        .create(&NewPane {
            tmux_session: "brl",
            home_tag: "/home/a",
            session: "s1",
            command: "pwd > here.txt; sleep 30",
            pipe_command: None,
            layout: &layout("windows"),
            cwd: Some(&cwd),
        })
        .unwrap();
    let here = cwd.join("here.txt");
    wait_for("here.txt", || {
        std::fs::read_to_string(&here).is_ok_and(|s| s.ends_with('\n'))
    });
    let written = std::fs::read_to_string(&here).unwrap();
    assert_eq!(Path::new(written.trim()), cwd);
}

#[test]
fn attach_command_selects_the_pane_then_attaches_to_the_exact_session() {
    let tmux = Tmux::new(Some("brl-test-attach"));
    let cmd = tmux.attach_command("brl", Some("%4"));
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(cmd.get_program(), "tmux");
    let line = args.join(" ");
    assert!(line.starts_with("-L brl-test-attach "), "{line}");
    assert!(line.contains("-t %4"), "{line}");
    assert!(line.ends_with("-t =brl"), "{line}");
}
