//! The sections of DESIGN.md, in the order an on-call engineer reaches for them.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Deployments,
    Health,
    Slos,
    Alerts,
    Builds,
    Config,
    Audit,
    Settings,
}

impl Section {
    /// The first [`Section::ON_PHONE_BAR`] are the phone's bottom bar; the rest are behind its
    /// More button.
    pub const ALL: [Section; 9] = [
        Section::Dashboard,
        Section::Deployments,
        Section::Health,
        Section::Alerts,
        Section::Slos,
        Section::Builds,
        Section::Config,
        Section::Audit,
        Section::Settings,
    ];

    /// How many sections a phone's bottom bar holds next to More: four, and More, fit a
    /// 360-pixel screen with their labels. (All nine scrolled sideways, and nothing showed that
    /// Builds, Config, Audit and Settings were there.)
    pub const ON_PHONE_BAR: usize = 4;

    pub fn path(self) -> &'static str {
        match self {
            Section::Dashboard => "/",
            Section::Deployments => "/deployments",
            Section::Health => "/health",
            Section::Slos => "/slos",
            Section::Alerts => "/alerts",
            Section::Builds => "/builds",
            Section::Config => "/config",
            Section::Audit => "/audit",
            Section::Settings => "/settings",
        }
    }

    /// Whether the page at `path` belongs to this section: its own pages and their detail pages
    /// (/deployments/5); the dashboard only at `/`; feature flags are part of Config.
    pub fn holds(self, path: &str) -> bool {
        let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
        match self {
            Section::Dashboard => path == "/",
            Section::Config => under("/config") || under("/flags"),
            other => under(other.path()),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Dashboard => "Dashboard",
            Section::Deployments => "Deployments",
            Section::Health => "Health",
            Section::Slos => "SLOs",
            Section::Alerts => "Alerts",
            Section::Builds => "Builds",
            Section::Config => "Config & flags",
            Section::Audit => "Audit",
            Section::Settings => "Settings",
        }
    }

    /// A 24x24 outline icon path; text labels always accompany it.
    fn icon(self) -> &'static str {
        match self {
            Section::Dashboard => "M3 3h8v8H3zM13 3h8v5h-8zM13 10h8v11h-8zM3 13h8v8H3z",
            Section::Deployments => "M12 2l4 4h-3v8h-2V6H8zM4 16h16v5H4z",
            Section::Health => "M2 12h4l3-7 4 14 3-7h6",
            Section::Slos => "M12 3a9 9 0 1 0 9 9h-9z M14 2v8h8a8 8 0 0 0-8-8z",
            Section::Alerts => "M12 3a6 6 0 0 0-6 6v5l-2 3h16l-2-3V9a6 6 0 0 0-6-6zM10 19a2 2 0 0 0 4 0",
            Section::Builds => "M4 20V10M10 20V4M16 20v-7M22 20H2",
            Section::Config => "M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4",
            Section::Audit => "M6 2h9l5 5v15H6zM9 12h8M9 16h8M9 8h4",
            Section::Settings => "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2",
        }
    }
}

#[component]
pub fn Nav() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let (bar, rest) = Section::ALL.split_at(Section::ON_PHONE_BAR);
    let link = move |s: Section| {
        view! {
            <li>
                <a href=s.path() aria-current=move || s.holds(&location.pathname.get()).then_some("page")>
                    <svg viewBox="0 0 24 24" aria-hidden="true" class="icon">
                        <path d=s.icon()></path>
                    </svg>
                    <span class="label">{s.label()}</span>
                    {(s == Section::Alerts).then(|| view! { <AlertBadge/> })}
                </a>
            </li>
        }
    };
    let in_rest = move || {
        let path = location.pathname.get();
        rest.iter().any(|s| s.holds(&path))
    };
    // The rest is a popover opened by More on a phone (no script needed) and, wider, shown
    // in place under the first four: one list of links either way, never two copies.
    view! {
        <nav class="sidenav" aria-label="Sections">
            <ul>
                {bar.iter().map(|s| link(*s)).collect_view()}
                <li class="nav-more-item">
                    <button type="button" class="nav-more" class:current=in_rest
                        popovertarget="more-sections" aria-haspopup="true">
                        <svg viewBox="0 0 24 24" aria-hidden="true" class="icon">
                            <path d="M5 12h.01M12 12h.01M19 12h.01"></path>
                        </svg>
                        <span class="label">"More"</span>
                    </button>
                </li>
            </ul>
            <ul id="more-sections" class="nav-rest" popover="auto">
                {rest.iter().map(|s| link(*s)).collect_view()}
            </ul>
        </nav>
    }
}

/// How many alerts still need a person, on the Alerts link; red when one is critical. Live.
#[island]
fn AlertBadge() -> impl IntoView {
    use crate::api::codec::resource;
    let changes = crate::live::changes_on(crate::health::topics::ALERTS);
    let counts = resource(move || changes.get(), |_| crate::api::load_alert_counts());
    view! {
        <Transition fallback=|| ()>
            {move || counts.get().and_then(|r| r.ok()).filter(|c| c.total() > 0).map(|c| {
                let class = if c.critical == 0 { "nav-badge" } else { "nav-badge nav-badge-critical" };
                let label = format!(
                    "{} a person ({} critical)",
                    crate::text::count(c.total() as usize, "alert needs", "alerts need"),
                    c.critical
                );
                view! {
                    <span class=class
                        data-testid="alert-badge" aria-label=label.clone() title=label>{c.total()}</span>
                }
            })}
        </Transition>
    }
}

/// The two halves of the Config section, as tabs.
pub fn config_tabs(current: &'static str) -> impl IntoView {
    let items = [("/config", "Configuration"), ("/flags", "Feature flags")]
        .into_iter()
        .map(|(href, text)| (href.to_string(), text, href == current))
        .collect();
    super::common::tabs("Config and flags", items)
}

#[cfg(test)]
mod tests {
    use super::Section;

    #[test]
    fn a_section_holds_its_pages_and_their_details() {
        assert!(Section::Dashboard.holds("/"));
        assert!(!Section::Dashboard.holds("/alerts"));
        assert!(Section::Deployments.holds("/deployments/5"));
        assert!(!Section::Deployments.holds("/deploymentsx"));
        assert!(Section::Config.holds("/config"));
        assert!(Section::Config.holds("/flags/new-checkout"));
        assert!(!Section::Audit.holds("/flags"));
    }
}
