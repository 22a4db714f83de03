//! Dollars from tokens, for agents that report tokens only (Codex, Gemini CLI; opencode when its
//! provider has no price): a table of US dollars per million tokens per model, with defaults
//! for the presets' default models, each overridable (or added) in `brl.toml`:
//!
//! ```toml
//! [prices."gpt-5-codex"]
//! input_usd_per_mtok = 1.25
//! output_usd_per_mtok = 10.0
//! cached_input_usd_per_mtok = 0.125   # optional; else cached input costs the input price
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// One model's prices, US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input_usd_per_mtok: f64,
    pub output_usd_per_mtok: f64,
    #[serde(default)]
    pub cached_input_usd_per_mtok: Option<f64>,
}

/// The `[prices."<model>"]` tables of `brl.toml` (the integrator adds a
/// `#[serde(default)] prices: PricesConfig` field to the config).
pub type PricesConfig = BTreeMap<String, ModelPrice>;

const fn p(input: f64, output: f64, cached: f64) -> ModelPrice {
    ModelPrice {
        input_usd_per_mtok: input,
        output_usd_per_mtok: output,
        cached_input_usd_per_mtok: Some(cached),
    }
}

/// Published list prices (late 2026) of the presets' default models and their close kin.
const DEFAULTS: &[(&str, ModelPrice)] = &[
    ("gpt-5-codex", p(1.25, 10.0, 0.125)),
    ("gpt-5", p(1.25, 10.0, 0.125)),
    ("gpt-5-mini", p(0.25, 2.0, 0.025)),
    ("gemini-2.5-pro", p(1.25, 10.0, 0.31)),
    ("gemini-2.5-flash", p(0.30, 2.50, 0.075)),
    ("claude-sonnet-4-5", p(3.0, 15.0, 0.30)),
    ("claude-opus-4-5", p(5.0, 25.0, 0.50)),
    ("claude-haiku-4-5", p(1.0, 5.0, 0.10)),
    ("sonnet", p(3.0, 15.0, 0.30)),
    ("opus", p(5.0, 25.0, 0.50)),
    ("haiku", p(1.0, 5.0, 0.10)),
];

/// The price table: defaults, then the config's tables on top.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    table: BTreeMap<String, ModelPrice>,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            table: DEFAULTS.iter().map(|(m, p)| (m.to_string(), *p)).collect(),
        }
    }
}

impl Prices {
    /// The defaults with `config` on top; a negative or non-finite price is an error naming the
    /// key.
    pub fn with_overrides(config: &PricesConfig) -> Result<Prices, String> {
        let mut prices = Prices::default();
        for (model, price) in config {
            let fields = [
                ("input_usd_per_mtok", Some(price.input_usd_per_mtok)),
                ("output_usd_per_mtok", Some(price.output_usd_per_mtok)),
                ("cached_input_usd_per_mtok", price.cached_input_usd_per_mtok),
            ];
            for (name, value) in fields {
                if let Some(v) = value
                    && !(v.is_finite() && v >= 0.0)
                {
                    return Err(format!(
                        "key `prices.\"{model}\".{name}` is {v}; a price is dollars per million \
                         tokens, 0 or more (fix: set it to the model's list price)"
                    ));
                }
            }
            prices.table.insert(model.clone(), *price);
        }
        Ok(prices)
    }

    /// The price of `model`: the exact name, else without a provider prefix
    /// (`openai/gpt-5-codex`), else the longest table name the model starts with
    /// (`gemini-2.5-pro-preview-06-05` → `gemini-2.5-pro`).
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        let bare = model.rsplit('/').next().unwrap_or(model);
        self.table
            .get(model)
            .or_else(|| self.table.get(bare))
            .or_else(|| {
                self.table
                    .iter()
                    .filter(|(k, _)| bare.starts_with(k.as_str()))
                    .max_by_key(|(k, _)| k.len())
                    .map(|(_, p)| p)
            })
    }

    /// Dollars for `uncached_input` + `cached_input` + `output` tokens of `model`; `None` when the
    /// table has no price for it.
    pub fn cost(
        &self,
        model: &str,
        uncached_input: u64,
        cached_input: u64,
        output: u64,
    ) -> Option<f64> {
        let p = self.get(model)?;
        let cached = p.cached_input_usd_per_mtok.unwrap_or(p.input_usd_per_mtok);
        let dollars = uncached_input as f64 * p.input_usd_per_mtok
            + cached_input as f64 * cached
            + output as f64 * p.output_usd_per_mtok;
        Some(dollars / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_price_the_default_models() {
        let p = Prices::default();
        let c = p.cost("gpt-5-codex", 1_000_000, 0, 100_000).unwrap();
        assert!((c - 2.25).abs() < 1e-9, "{c}");
        let c = p.cost("openai/gpt-5-codex", 0, 1_000_000, 0).unwrap();
        assert!((c - 0.125).abs() < 1e-9, "{c}");
        assert!(p.cost("gemini-2.5-pro-preview-06-05", 1, 0, 0).is_some());
        assert_eq!(p.cost("some-local-model", 1, 1, 1), None);
    }

    #[test]
    fn config_overrides_and_adds() {
        let cfg: PricesConfig = toml::from_str(
            "[\"gpt-5-codex\"]\ninput_usd_per_mtok = 2.0\noutput_usd_per_mtok = 4.0\n\
             [\"my-model\"]\ninput_usd_per_mtok = 1.0\noutput_usd_per_mtok = 1.0\n",
        )
        .unwrap();
        let p = Prices::with_overrides(&cfg).unwrap();
        // no cached price given: cached input costs the input price
        let c = p.cost("gpt-5-codex", 500_000, 500_000, 250_000).unwrap();
        assert!((c - 3.0).abs() < 1e-9, "{c}");
        assert!(p.cost("my-model", 1, 0, 0).is_some());
    }

    #[test]
    fn bad_prices_name_the_key() {
        let mut cfg = PricesConfig::new();
        cfg.insert("m".into(), p(-1.0, 1.0, 0.0));
        let e = Prices::with_overrides(&cfg).unwrap_err();
        assert!(e.contains("prices.\"m\".input_usd_per_mtok"), "{e}");
        let unknown: Result<PricesConfig, _> =
            toml::from_str("[m]\ninput_usd_per_mtok = 1.0\noutput_usd_per_mtok = 1.0\nx = 1\n");
        assert!(unknown.is_err());
    }
}
