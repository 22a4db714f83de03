//! tmux manners against a real tmux server on a private socket (killed by the test, never the
//! user's server): titled panes, the home on the status line, and switching a real attached
//! client to a pane instead of nesting one.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use brl::tmux::{Layout, NewPane, Tmux};

struct Server {
    socket: String,
    tmux: Tmux,
    client: Option<Child>,
}

impl Server {
    fn start(test: &str) -> Server {
        let socket = format!("brl-manners-{}-{test}", std::process::id());
        Server {
            tmux: Tmux::new(Some(&socket)),
            socket,
            client: None,
        }
    }

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
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn create(&self, home: &str, session: &str) -> String {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts");
        let layout = Layout::load(&dir, "tiled").expect("layout");
        self.tmux
            .create(&NewPane {
                tmux_session: "brl",
                home_tag: home,
                session,
                command: "sleep 60",
                pipe_command: None,
                layout: &layout,
                cwd: None,
            })
            .expect("create")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = self.client.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let path = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "display-message",
                "-p",
                "#{socket_path}",
            ])
            .output();
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        if let Ok(out) = path {
            let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if p.ends_with(&self.socket) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn panes_are_titled_with_their_session_and_the_status_line_shows_the_home() {
    let server = Server::start("titles");
    let home = "/srv/my#home";
    let s1 = server.create(home, "s1");
    let s2 = server.create(home, "s2");
    assert_eq!(
        server.raw(&["display", "-p", "-t", &s1, "#{pane_title}"]),
        "s1"
    );
    assert_eq!(
        server.raw(&["display", "-p", "-t", &s2, "#{pane_title}"]),
        "s2"
    );
    // The border reads the pane's tag, so a program that sets its terminal title cannot
    // rename the pane on screen.
    assert_eq!(
        server.raw(&["show-options", "-w", "-v", "-t", &s1, "pane-border-status"]),
        "top"
    );
    let format = server.raw(&["show-options", "-w", "-v", "-t", &s1, "pane-border-format"]);
    // (`raw` trims the output: the format's surrounding spaces are not compared.)
    assert!(format.contains("#{@brl_session}"), "{format}");
    assert_eq!(
        server.raw(&["display", "-p", "-t", &s2, &format]),
        "s2",
        "{format}"
    );
    let right = server.raw(&["show-options", "-v", "-t", &s1, "status-right"]);
    assert_eq!(
        server.raw(&["display", "-p", "-t", &s1, &right]),
        "brl · /srv/my#home"
    );
}

#[test]
fn switch_client_moves_an_attached_client_to_the_pane_without_nesting() {
    let mut server = Server::start("switch");
    let s1 = server.create("/h", "s1");
    let s2 = server.create("/h", "s2");
    server.raw(&["select-pane", "-t", &s1]);
    // A real client on a pseudo-terminal (script(1) gives tmux a tty).
    let attach = format!("tmux -L {} attach -t =brl", server.socket);
    server.client = Some(
        Command::new("script")
            .args(["-qfc", &attach, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env_remove("TMUX")
            .spawn()
            .expect("script runs"),
    );
    wait_for("the client", || {
        !server
            .raw(&["list-clients", "-F", "#{client_name}"])
            .is_empty()
    });
    let client = server.raw(&["list-clients", "-F", "#{client_name}"]);
    let client = client.lines().next().expect("a client").to_string();
    server.tmux.switch_client(&client, &s2).expect("switch");
    assert_eq!(
        server.raw(&["display", "-p", "-c", &client, "#{pane_id}"]),
        s2
    );
    // Still one client: nothing nested.
    assert_eq!(
        server
            .raw(&["list-clients", "-F", "#{client_name}"])
            .lines()
            .count(),
        1
    );
}
