//! Which components the health grid shows: a status, words to look for, and a cap on tiles so a
//! fleet of thousands stays a page a tablet can render (the counts always cover everything).

use super::component::Component;
use super::HealthStatus;
use crate::href::{percent_encode, QueryHref};

/// Tiles shown before "Show all".
pub const TILES: usize = 240;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GridFilter {
    pub status: Option<HealthStatus>,
    /// Words that must all appear in the name, service, environment or kind (any case).
    pub text: String,
    /// Every match, not just the first [`TILES`].
    pub all: bool,
}

impl GridFilter {
    pub fn matches(&self, component: &Component) -> bool {
        if self.status.is_some_and(|s| s != component.status) {
            return false;
        }
        let haystack = [
            Some(component.name.as_str()),
            component.service.as_deref(),
            component.environment.as_deref(),
            Some(component.kind.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
        self.text
            .split_whitespace()
            .all(|word| haystack.contains(&word.to_lowercase()))
    }

    /// The components to draw (in the given order) and how many matched in all.
    pub fn apply(&self, components: Vec<Component>) -> (Vec<Component>, usize) {
        let matching: Vec<Component> = components.into_iter().filter(|c| self.matches(c)).collect();
        let total = matching.len();
        let shown = if self.all { total } else { total.min(TILES) };
        (matching.into_iter().take(shown).collect(), total)
    }

    /// The grid's address with this filter, for links and the "Show all" button.
    pub fn href(&self) -> String {
        let words: Vec<String> = self.text.split_whitespace().map(percent_encode).collect();
        QueryHref::new()
            .param("status", self.status.map(HealthStatus::as_str))
            .encoded("q", Some(words.join("+")))
            .param("all", self.all.then_some(1))
            .build("/health", "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(id: i64, name: &str, service: &str, status: HealthStatus) -> Component {
        Component {
            id,
            name: name.into(),
            kind: "http".into(),
            service: Some(service.into()),
            environment: Some("production".into()),
            probe: serde_json::from_str(r#"{"type": "tcp", "address": "db:5432"}"#).unwrap(),
            status,
            status_reason: String::new(),
            last_checked_at: None,
            last_latency_ms: None,
            status_since: 0,
            created_at: 0,
        }
    }

    #[test]
    fn filters_by_status_and_every_word_in_any_case() {
        let list = vec![
            component(1, "checkout-api", "checkout", HealthStatus::Down),
            component(2, "checkout-db", "checkout", HealthStatus::Healthy),
            component(3, "search", "search", HealthStatus::Down),
        ];
        let ids = |f: GridFilter| {
            f.apply(list.clone())
                .0
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(GridFilter::default()), [1, 2, 3]);
        let down = GridFilter {
            status: Some(HealthStatus::Down),
            ..Default::default()
        };
        assert_eq!(ids(down.clone()), [1, 3]);
        let text = |t: &str| GridFilter {
            text: t.into(),
            ..Default::default()
        };
        assert_eq!(ids(text("CHECKOUT")), [1, 2]);
        assert_eq!(ids(text("checkout db")), [2]);
        assert_eq!(ids(text("production http")), [1, 2, 3]);
        assert_eq!(ids(text("nothing")), Vec::<i64>::new());
        assert_eq!(
            ids(GridFilter {
                text: "checkout".into(),
                ..down
            }),
            [1]
        );
    }

    #[test]
    fn caps_tiles_but_counts_every_match() {
        let list: Vec<Component> = (0..TILES as i64 + 5)
            .map(|i| component(i, &format!("c{i}"), "s", HealthStatus::Healthy))
            .collect();
        let (shown, total) = GridFilter::default().apply(list.clone());
        assert_eq!((shown.len(), total), (TILES, TILES + 5));
        let all = GridFilter {
            all: true,
            ..Default::default()
        };
        assert_eq!(all.apply(list).0.len(), TILES + 5);
    }

    #[test]
    fn links_keep_the_filter() {
        assert_eq!(GridFilter::default().href(), "/health");
        let f = GridFilter {
            status: Some(HealthStatus::Down),
            text: " eu west&1 ".into(),
            all: true,
        };
        assert_eq!(f.href(), "/health?status=down&q=eu+west%261&all=1");
    }
}
