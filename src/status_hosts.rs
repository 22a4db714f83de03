//! The `[[hosts]]` part of `brl status`: each host as the control room last saw it
//! (`logs/hosts/<name>.json`, see [`crate::hosts::status_file`]) and its sessions, listed with the
//! local ones and marked with their host. Nothing here talks to a host: the control room does,
//! once per scheduling pass.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::config::Config;
use crate::home::Home;
use crate::hosts::status_file;

/// (one JSON object per host, the hosts' sessions as `sessions` entries with a `host` key).
pub fn hosts_json(home: &Home, config: &Config) -> (Vec<Value>, Vec<Value>) {
    let mut hosts = Vec::new();
    let mut sessions = Vec::new();
    for h in &config.hosts {
        let max = h
            .max_ram_percent
            .unwrap_or(config.scheduler.max_ram_percent);
        let st = match status_file::load(home, &h.name) {
            Ok(Some(s)) => s,
            Ok(None) => {
                hosts.push(json!({"name": h.name, "ssh": h.ssh, "reachable": null,
                    "note": "not checked yet: the control room checks it while it runs (`brl up`)"}));
                for s in h.session_names() {
                    sessions.push(
                        json!({"name": s, "host": h.name, "state": "unknown", "alive": false}),
                    );
                }
                continue;
            }
            Err(e) => {
                hosts.push(json!({"name": h.name, "error": format!("{e:#}")}));
                continue;
            }
        };
        let memory = st.snapshot.as_ref().and_then(|s| s.memory).map(|m| {
            let m = m.memory();
            json!({"used_bytes": m.used, "total_bytes": m.total,
                       "used_percent": m.used_percent_rounded(), "source": m.source,
                       "max_ram_percent": max, "gated": m.used_percent() > f64::from(max)})
        });
        let stopped = status_file::is_stopped(home, &h.name);
        hosts.push(json!({
            "name": h.name,
            "ssh": h.ssh,
            "stopped": stopped,
            "reachable": st.reachable,
            "since": st.since,
            "checked_at": st.checked_at,
            "error": st.error,
            "snapshot_at": st.snapshot.as_ref().map(|s| s.at),
            "memory": memory,
        }));
        for name in h.session_names() {
            let rs = st
                .snapshot
                .as_ref()
                .and_then(|s| s.sessions.iter().find(|x| x.name == name));
            let state = match (st.reachable, rs) {
                _ if stopped => "stopped".to_string(),
                (false, _) => "unreachable".to_string(),
                (true, Some(r)) => r.shown.clone(),
                (true, None) => "unknown".to_string(),
            };
            let c = rs.and_then(|r| r.control.as_ref());
            sessions.push(json!({
                "name": name,
                "host": h.name,
                "state": state,
                "alive": rs.map(|r| r.alive),
                "phase": c.and_then(|c| c.phase.clone()),
                "branch": c.and_then(|c| c.branch.clone()),
                "since": c.and_then(|c| c.since),
                "grant": c.and_then(|c| c.grant.clone()),
                "last": c.and_then(|c| c.last.clone()),
                "paused": c.and_then(|c| c.paused.clone()),
                "blocked": c.and_then(|c| c.blocked.clone()),
                "error": rs.and_then(|r| r.error.clone()),
            }));
        }
    }
    (hosts, sessions)
}

fn ts(v: &Value) -> String {
    v.as_str()
        .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "?".into())
}

/// One line per host: reachable (with its memory) or unreachable since when, and why.
pub fn describe_hosts(v: &Value) -> String {
    let mut out = String::new();
    for h in v["hosts"].as_array().into_iter().flatten() {
        let name = h["name"].as_str().unwrap_or("?");
        if let Some(e) = h["error"].as_str().filter(|_| h.get("reachable").is_none()) {
            out.push_str(&format!("host {name}: ERROR {e}\n"));
            continue;
        }
        if h["stopped"].as_bool() == Some(true) {
            out.push_str(&format!(
                "host {name}: stopped by `brl down --host {name}` — no panes, no grants until `brl up`\n"
            ));
            continue;
        }
        match h["reachable"].as_bool() {
            None => out.push_str(&format!(
                "host {name}: not checked yet (the control room checks it while it runs)\n"
            )),
            Some(false) => {
                let why = h["error"]
                    .as_str()
                    .and_then(|e| e.lines().next())
                    .unwrap_or("no answer");
                out.push_str(&format!(
                    "host {name}: unreachable since {} ({why}) — no grants to its sessions until it answers; last tried {}\n",
                    ts(&h["since"]),
                    ts(&h["checked_at"])
                ));
            }
            Some(true) => {
                let m = &h["memory"];
                let mem = match m["used_percent"].as_f64() {
                    Some(p) => format!(
                        "memory {p:.1}% used ({}), gate at {}%{}",
                        m["source"].as_str().unwrap_or("?"),
                        m["max_ram_percent"].as_u64().unwrap_or(0),
                        if m["gated"].as_bool() == Some(true) {
                            " — GATED: no new cycles there"
                        } else {
                            ""
                        }
                    ),
                    None => "memory unknown".into(),
                };
                out.push_str(&format!(
                    "host {name}: reachable since {} · {mem} · checked {}\n",
                    ts(&h["since"]),
                    ts(&h["checked_at"])
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_host_gets_a_line_that_says_how_it_is() {
        let v = json!({"hosts": [
            {"name": "a", "reachable": true, "since": "2026-12-05T01:00:00Z",
             "checked_at": "2026-12-05T01:10:00Z", "stopped": false,
             "memory": {"used_percent": 91.0, "source": "host", "max_ram_percent": 85, "gated": true}},
            {"name": "b", "reachable": false, "since": "2026-12-05T01:05:00Z",
             "checked_at": "2026-12-05T01:10:00Z", "stopped": false,
             "error": "host `b` is unreachable (me@b): Connection refused\n  fix: …"},
            {"name": "c", "reachable": null},
            {"name": "d", "reachable": true, "stopped": true},
        ]});
        let text = describe_hosts(&v);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].starts_with("host a: reachable since 2026-12-05 01:00:00 UTC")
                && lines[0].contains("memory 91.0% used (host), gate at 85% — GATED"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("host b: unreachable since 2026-12-05 01:05:00 UTC")
                && lines[1].contains("Connection refused")
                && !lines[1].contains("fix:"),
            "{text}"
        );
        assert!(lines[2].contains("not checked yet"), "{text}");
        assert!(
            lines[3].contains("stopped by `brl down --host d`"),
            "{text}"
        );
    }

    #[test]
    fn hosts_sessions_are_listed_with_their_host_even_before_a_check() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        let config: Config = toml::from_str(
            "repo = \"/nowhere\"\nsessions = 1\n[agent]\ncommand = \"true\"\n\
             [[hosts]]\nname = \"a\"\nssh = \"me@a\"\nsessions = 2\n",
        )
        .expect("config");
        let (hosts, sessions) = hosts_json(&home, &config);
        assert_eq!(hosts.len(), 1);
        assert_eq!(hosts[0]["reachable"], Value::Null);
        let names: Vec<&str> = sessions.iter().filter_map(|s| s["name"].as_str()).collect();
        assert_eq!(names, ["a-s1", "a-s2"]);
        assert!(
            sessions
                .iter()
                .all(|s| s["host"] == "a" && s["state"] == "unknown")
        );
        // Once the control room wrote the host down as unreachable, its sessions say so.
        let mut st = status_file::new("a", 85);
        st.reachable = false;
        status_file::save(&home, &st).expect("save");
        let (hosts, sessions) = hosts_json(&home, &config);
        assert_eq!(hosts[0]["reachable"], false);
        assert!(sessions.iter().all(|s| s["state"] == "unreachable"));
    }
}
