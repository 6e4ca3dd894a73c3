//! Which browser bundle a page loads. Every page's interactive part is one island, and
//! `scripts/page-bundles.sh` links one bundle per page island (holding that island and the shell's
//! islands, nothing of the other pages), so a page downloads only its own code. Pages without an
//! island of their own (coming soon, not found) load the shell's bundle.

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

/// The bundle's output name for `path`: `{output_name}-{island}`, or `{output_name}-shell`. Falls
/// back to the whole-app bundle (every island) when the per-page bundles were not built, as after
/// a plain `cargo leptos build` or `watch`.
pub fn output_name_for(path: &str, output_name: &str, pkg_dir: &std::path::Path) -> String {
    let name = format!("{output_name}-{}", page_island(path).unwrap_or("shell"));
    if pkg_dir.join(format!("{name}.wasm")).is_file() {
        name
    } else {
        output_name.to_string()
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
        assert_eq!(output_name_for("/audit", "flightdeck", &dir), "flightdeck");
        std::fs::write(dir.join("flightdeck-AuditTrail.wasm"), b"").unwrap();
        assert_eq!(
            output_name_for("/audit", "flightdeck", &dir),
            "flightdeck-AuditTrail"
        );
        assert_eq!(
            output_name_for("/nowhere", "flightdeck", &dir),
            "flightdeck"
        );
        std::fs::write(dir.join("flightdeck-shell.wasm"), b"").unwrap();
        assert_eq!(
            output_name_for("/nowhere", "flightdeck", &dir),
            "flightdeck-shell"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
