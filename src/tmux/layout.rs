//! Pane layouts: how `brl up` arranges the sessions' panes in tmux, read from
//! `<home>/layouts/<name>.toml` (`[tmux] layout` in brl.toml picks one).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The arrangements tmux's `select-layout` knows (tmux 3.2+).
pub const TMUX_LAYOUTS: [&str; 5] = [
    "even-horizontal",
    "even-vertical",
    "main-horizontal",
    "main-vertical",
    "tiled",
];

/// A named layout, as read from a layout file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The file stem, e.g. `tiled` for `layouts/tiled.toml`.
    pub name: String,
    pub mode: LayoutMode,
}

/// Where a session's pane goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutMode {
    /// All session panes in one window ("sessions"), re-arranged with `select-layout
    /// <tmux_layout>` after each split.
    Panes { tmux_layout: String },
    /// One window per session, named after the session.
    Windows,
}

/// A layout file that is missing or invalid. Each message names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error(
        "layout `{name}` not found: {path} does not exist\n  fix: set `[tmux] layout` in brl.toml to one of the layouts in {dir}: {available}, or create {path}"
    )]
    Missing {
        name: String,
        path: PathBuf,
        dir: PathBuf,
        /// The layout names found in the directory, comma-separated (or "none").
        available: String,
    },
    #[error("cannot read layout file {path}: {source}\n  fix: check the file's permissions")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid layout file {path}: {message}\n  fix: {fix}")]
    Invalid {
        path: PathBuf,
        message: String,
        fix: String,
    },
}

/// The file's schema, before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayout {
    name: Option<String>,
    mode: RawMode,
    tmux_layout: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawMode {
    Panes,
    Windows,
}

impl Layout {
    /// Reads and validates `<layouts_dir>/<name>.toml`.
    pub fn load(layouts_dir: &Path, name: &str) -> Result<Layout, LayoutError> {
        let path = layouts_dir.join(format!("{name}.toml"));
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(LayoutError::Invalid {
                path,
                message: format!("`{name}` is not a layout name"),
                fix: "set `[tmux] layout` in brl.toml to a file stem in the layouts directory, e.g. \"tiled\"".into(),
            });
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A home made before this layout shipped: the built-in copy serves.
                if let Some(text) = crate::defaults::file(&format!("layouts/{name}.toml")) {
                    return Layout::parse(&path, name, text);
                }
                let names = available(layouts_dir);
                return Err(LayoutError::Missing {
                    name: name.to_string(),
                    path,
                    dir: layouts_dir.to_path_buf(),
                    available: if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    },
                });
            }
            Err(source) => return Err(LayoutError::Read { path, source }),
        };
        Layout::parse(&path, name, &text)
    }

    /// Validates the text of a layout file; `path` and `name` (the file stem) are for messages.
    fn parse(path: &Path, name: &str, text: &str) -> Result<Layout, LayoutError> {
        let invalid = |message: String, fix: &str| LayoutError::Invalid {
            path: path.to_path_buf(),
            message,
            fix: fix.to_string(),
        };
        let raw: RawLayout = toml::from_str(text).map_err(|e| {
            invalid(
                e.to_string().trim_end().to_string(),
                "the keys are `name` (the file stem), `mode` (\"panes\" or \"windows\") and, for panes, `tmux_layout`",
            )
        })?;
        if let Some(declared) = &raw.name
            && declared != name
        {
            return Err(invalid(
                format!("name = \"{declared}\" but the file is {name}.toml"),
                &format!("set name = \"{name}\" or rename the file to {declared}.toml"),
            ));
        }
        let mode = match (raw.mode, raw.tmux_layout) {
            (RawMode::Windows, None) => LayoutMode::Windows,
            (RawMode::Windows, Some(_)) => {
                return Err(invalid(
                    "`tmux_layout` only applies to mode = \"panes\"".into(),
                    "remove `tmux_layout`, or set mode = \"panes\"",
                ));
            }
            (RawMode::Panes, None) => {
                return Err(invalid(
                    "mode = \"panes\" needs `tmux_layout`".into(),
                    &format!("add tmux_layout = one of {}", TMUX_LAYOUTS.join(", ")),
                ));
            }
            (RawMode::Panes, Some(tmux_layout)) => {
                if !TMUX_LAYOUTS.contains(&tmux_layout.as_str()) {
                    return Err(invalid(
                        format!("tmux_layout = \"{tmux_layout}\" is not one of tmux's layouts"),
                        &format!("use one of {}", TMUX_LAYOUTS.join(", ")),
                    ));
                }
                LayoutMode::Panes { tmux_layout }
            }
        };
        Ok(Layout {
            name: name.to_string(),
            mode,
        })
    }
}

/// The layout names (`*.toml` stems) in `dir`, sorted; empty when it cannot be read.
fn available(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            match path.extension() {
                Some(ext) if ext == "toml" => {
                    path.file_stem().map(|s| s.to_string_lossy().into_owned())
                }
                _ => None,
            }
        })
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts")
    }

    fn parse(name: &str, text: &str) -> Result<Layout, LayoutError> {
        Layout::parse(Path::new("/h/layouts/x.toml"), name, text)
    }

    fn message(r: Result<Layout, LayoutError>) -> String {
        match r {
            Ok(l) => panic!("expected an error, got {l:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn shipped_layouts_load() {
        let tiled = Layout::load(&shipped(), "tiled").unwrap();
        assert_eq!(tiled.name, "tiled");
        assert_eq!(
            tiled.mode,
            LayoutMode::Panes {
                tmux_layout: "tiled".into()
            }
        );
        let windows = Layout::load(&shipped(), "windows").unwrap();
        assert_eq!(windows.mode, LayoutMode::Windows);
    }

    #[test]
    fn name_defaults_to_the_file_stem() {
        let l = parse("side", "mode = \"panes\"\ntmux_layout = \"main-vertical\"").unwrap();
        assert_eq!(l.name, "side");
    }

    #[test]
    fn missing_file_lists_the_layouts_that_exist() {
        let msg = message(Layout::load(&shipped(), "grid"));
        assert!(msg.contains("grid.toml"), "{msg}");
        assert!(msg.contains("tiled, windows"), "{msg}");
        assert!(msg.contains("[tmux] layout"), "{msg}");
    }

    #[test]
    fn missing_dir_says_none() {
        let msg = message(Layout::load(Path::new("/nonexistent/brl/layouts"), "grid"));
        assert!(msg.contains("none"), "{msg}");
        // A shipped layout missing from an older home: the built-in copy serves.
        let l = Layout::load(Path::new("/nonexistent/brl/layouts"), "tiled").expect("built in");
        assert_eq!(l.name, "tiled");
    }

    #[test]
    fn bad_names_are_rejected_before_touching_the_disk() {
        for name in ["", "../etc/passwd", ".hidden", "a/b"] {
            let msg = message(Layout::load(&shipped(), name));
            assert!(msg.contains("not a layout name"), "{name}: {msg}");
        }
    }

    #[test]
    fn unknown_tmux_layout_lists_the_valid_ones() {
        let msg = message(parse("x", "mode = \"panes\"\ntmux_layout = \"grid\""));
        assert!(msg.contains("/h/layouts/x.toml"), "{msg}");
        assert!(msg.contains("\"grid\""), "{msg}");
        assert!(msg.contains("even-horizontal"), "{msg}");
    }

    #[test]
    fn panes_mode_needs_a_tmux_layout_and_windows_mode_refuses_one() {
        let msg = message(parse("x", "mode = \"panes\""));
        assert!(msg.contains("needs `tmux_layout`"), "{msg}");
        let msg = message(parse("x", "mode = \"windows\"\ntmux_layout = \"tiled\""));
        assert!(msg.contains("only applies"), "{msg}");
    }

    #[test]
    fn unknown_keys_bad_modes_and_mismatched_names_are_rejected() {
        let msg = message(parse("x", "mode = \"windows\"\ncolour = \"red\""));
        assert!(msg.contains("colour"), "{msg}");
        let msg = message(parse("x", "mode = \"grid\""));
        assert!(msg.contains("grid"), "{msg}");
        let msg = message(parse("x", "name = \"y\"\nmode = \"windows\""));
        assert!(msg.contains("rename the file to y.toml"), "{msg}");
    }
}
