//! Which browser bundle a page loads. Every page's interactive part is one island, and
//! `scripts/page-bundles.sh` links one bundle per page island (holding that island and the shell's
//! islands, nothing of the other pages), so a page downloads only its own code. Pages without an
//! island of their own (coming soon, not found) load the shell's bundle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The name of the page island rendered at `path`, which is also its bundle's name.
pub fn page_island(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let island = match segments.as_slice() {
        [] => "DashboardActivity",
        ["signin"] => "SignInForm",
        ["deployments"] => "DeploymentsBoard",
        ["deployments", _] => "DeploymentLive",
        ["health"] => "HealthGrid",
        ["health", _] => "ComponentLive",
        ["slos"] => "SloList",
        ["slos", _] => "SloLive",
        ["alerts"] => "AlertFeed",
        ["alerts", _] => "AlertLive",
        ["audit"] => "AuditTrail",
        ["builds"] => "BuildsBoard",
        ["builds", "pipeline"] => "PipelineLive",
        ["config"] => "ConfigBoard",
        ["flags"] => "FlagList",
        ["flags", _] => "FlagLive",
        ["services", _] => "ServiceLive",
        ["settings"] => "SettingsSections",
        ["system"] => "SystemLive",
        _ => return None,
    };
    Some(island)
}

/// Whether `file` (a path under `/pkg`) is named by its content hash, `{name}.{16 hex digits}`
/// and `.js`, `.wasm` or `.css`, as `scripts/page-bundles.sh` names the bundles and the
/// stylesheet: such a file never changes, so a browser may keep it for good.
pub fn is_hashed(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    let Some(stem) = name
        .strip_suffix(".wasm")
        .or_else(|| name.strip_suffix(".js"))
        .or_else(|| name.strip_suffix(".css"))
    else {
        return false;
    };
    stem.rsplit_once('.').is_some_and(|(base, hash)| {
        !base.is_empty() && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// What the package directory holds: the page bundles, island (or `shell`) → the file name
/// without its extension, hashed (`flightdeck-AlertFeed.1a2b3c4d5e6f7a8b`) or not
/// (`flightdeck-AlertFeed`); and the hashed stylesheet, if there is one.
#[derive(Debug, Default, PartialEq)]
pub struct BundleIndex {
    bundles: BTreeMap<String, String>,
    stylesheet: Option<String>,
}

impl BundleIndex {
    /// Lists `pkg_dir` once. A hashed name wins over a plain one of the same island.
    pub fn read(pkg_dir: &Path, output_name: &str) -> BundleIndex {
        let prefix = format!("{output_name}-");
        let mut stems = BTreeMap::<String, String>::new();
        let mut stylesheet = None;
        for entry in std::fs::read_dir(pkg_dir).into_iter().flatten().flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(&format!("{output_name}."))
                && file.ends_with(".css")
                && is_hashed(&file)
            {
                stylesheet = Some(file);
                continue;
            }
            let Some(stem) = file.strip_suffix(".wasm") else {
                continue;
            };
            let Some(island) = stem.strip_prefix(&prefix).and_then(|r| r.split('.').next()) else {
                continue;
            };
            let hashed = is_hashed(&file);
            let keep = stems
                .get(island)
                .is_some_and(|known| is_hashed(&format!("{known}.wasm")) && !hashed);
            if !keep {
                stems.insert(island.to_string(), stem.to_string());
            }
        }
        BundleIndex {
            bundles: stems,
            stylesheet,
        }
    }

    /// The stylesheet's address: the hashed copy when the build made one.
    pub fn stylesheet_href(&self, output_name: &str) -> String {
        match &self.stylesheet {
            Some(file) => format!("/pkg/{file}"),
            None => format!("/pkg/{output_name}.css"),
        }
    }

    /// The bundle the page at `path` loads: its island's, else the shell's, else the whole-app
    /// bundle (every island), as after a plain `cargo leptos build` or `watch`.
    pub fn output_name_for(&self, path: &str, output_name: &str) -> String {
        let island = page_island(path).unwrap_or("shell");
        self.bundles
            .get(island)
            .cloned()
            .unwrap_or_else(|| output_name.to_string())
    }
}

/// The index of `pkg_dir`, listed at the first page render: the bundles do not change while the
/// server runs (a new build means a restart), and a page render should not list a directory.
pub fn index(pkg_dir: &Path, output_name: &str) -> Arc<BundleIndex> {
    static LISTED: Mutex<Option<(PathBuf, Arc<BundleIndex>)>> = Mutex::new(None);
    let mut listed = LISTED.lock().unwrap_or_else(|e| e.into_inner());
    match listed.as_ref() {
        Some((dir, index)) if dir == pkg_dir => index.clone(),
        _ => {
            let index = Arc::new(BundleIndex::read(pkg_dir, output_name));
            *listed = Some((pkg_dir.to_path_buf(), index.clone()));
            index
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_page_has_its_island() {
        assert_eq!(page_island("/"), Some("DashboardActivity"));
        assert_eq!(page_island("/deployments"), Some("DeploymentsBoard"));
        assert_eq!(page_island("/deployments/42"), Some("DeploymentLive"));
        assert_eq!(page_island("/alerts/7/"), Some("AlertLive"));
        assert_eq!(page_island("/settings"), Some("SettingsSections"));
        assert_eq!(page_island("/flags/new-checkout"), Some("FlagLive"));
        assert_eq!(page_island("/builds"), Some("BuildsBoard"));
        assert_eq!(page_island("/services/payments"), Some("ServiceLive"));
        assert_eq!(page_island("/coming"), None);
        assert_eq!(page_island("/deployments/1/extra"), None);
    }

    #[test]
    fn missing_page_bundles_fall_back_to_the_whole_app() {
        let dir = std::env::temp_dir().join(format!("fd-bundles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let name = |path| BundleIndex::read(&dir, "flightdeck").output_name_for(path, "flightdeck");
        assert_eq!(name("/audit"), "flightdeck");
        std::fs::write(dir.join("flightdeck-AuditTrail.wasm"), b"").unwrap();
        assert_eq!(name("/audit"), "flightdeck-AuditTrail");
        assert_eq!(name("/nowhere"), "flightdeck");
        std::fs::write(dir.join("flightdeck-shell.wasm"), b"").unwrap();
        assert_eq!(name("/nowhere"), "flightdeck-shell");
        // A hashed bundle wins; its precompressed copies are not bundles.
        std::fs::write(dir.join("flightdeck-AuditTrail.0123456789abcdef.wasm"), b"").unwrap();
        std::fs::write(
            dir.join("flightdeck-AuditTrail.0123456789abcdef.wasm.br"),
            b"",
        )
        .unwrap();
        assert_eq!(name("/audit"), "flightdeck-AuditTrail.0123456789abcdef");
        let css = || BundleIndex::read(&dir, "flightdeck").stylesheet_href("flightdeck");
        assert_eq!(css(), "/pkg/flightdeck.css");
        std::fs::write(dir.join("flightdeck.00112233aabbccdd.css"), b"").unwrap();
        std::fs::write(dir.join("flightdeck.00112233aabbccdd.css.gz"), b"").unwrap();
        assert_eq!(css(), "/pkg/flightdeck.00112233aabbccdd.css");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_content_hashed_bundles_are_immutable() {
        assert!(is_hashed("/flightdeck-AlertFeed.0123456789abcdef.wasm"));
        assert!(is_hashed("flightdeck-shell.fedcba9876543210.js"));
        assert!(!is_hashed("/flightdeck-AlertFeed.wasm"));
        assert!(!is_hashed("/flightdeck.css"));
        assert!(is_hashed("/flightdeck.00112233aabbccdd.css"));
        assert!(!is_hashed("/flightdeck-AlertFeed.0123456789abcdeg.wasm"));
        assert!(!is_hashed("/flightdeck-AlertFeed.0123456789abcdef.wasm.gz"));
        assert!(!is_hashed("/.0123456789abcdef.js"));
    }
}
