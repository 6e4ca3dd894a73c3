//! The audit trail: newest first, filter by action and actor, page by cursor, live at the top.

use crate::api::codec::resource;
use crate::api::list_audit;
use crate::components::audit::AuditTable;
use crate::components::common::*;
use crate::href::use_query;
use crate::href::QueryHref;
use crate::live::changes_on;
use crate::model::{topics, AuditQuery};
use crate::text::non_blank;
use leptos::prelude::*;
use leptos_meta::Title;

fn query_string(query: &AuditQuery, before: Option<i64>) -> String {
    QueryHref::new()
        .param("before", before)
        .param("action", query.action.as_deref())
        .param("actor", query.actor.as_deref())
        .param("service", query.service.as_deref())
        .build("/audit", "")
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_query();
    let query = move || {
        let p = params.read();
        AuditQuery {
            before: p.get("before").and_then(|b| b.parse().ok()),
            limit: None,
            action: non_blank(p.get("action")),
            actor: non_blank(p.get("actor")),
            service: non_blank(p.get("service")),
        }
    };
    view! {
        <Title text="Audit"/>
        {move || view! { <AuditTrail query=query()/> }}
    }
}

/// The page's interactive part: filters and the live, paged trail.
#[island]
fn AuditTrail(query: AuditQuery) -> impl IntoView {
    let query = Signal::stored(query);
    // Newer entries appear on their own when the first page is shown; older pages stay put.
    let audit_changes = changes_on(topics::AUDIT);
    let page = resource(
        move || {
            let q = query.get();
            let version = if q.before.is_none() {
                audit_changes.get()
            } else {
                0
            };
            (q, version)
        },
        |(q, _)| list_audit(q),
    );

    view! {
        <div class="page-head">
            <h1>"Audit trail"</h1>
            <p class="muted">"Every action, who took it and why. Newest first."</p>
        </div>
        <form class="filters" method="get" action="/audit" role="search">
            <label>
                "Action"
                <input type="search" name="action" placeholder="e.g. user.signed_in"
                    prop:value=move || query.get().action.unwrap_or_default()/>
            </label>
            <label>
                "Actor"
                <input type="search" name="actor" placeholder="e.g. admin"
                    prop:value=move || query.get().actor.unwrap_or_default()/>
            </label>
            <button class="btn" type="submit">"Filter"</button>
            <a class="btn btn-ghost" href="/audit">"Clear"</a>
        </form>
        <Transition fallback=|| view! { <LoadingRows/> }>
            {move || page.get().map(|result| match result {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(page) if page.entries.is_empty() => view! {
                    <EmptyState title="No audit entries match">
                        <p>"Clear the filters, or come back after someone signs in or changes a setting."</p>
                    </EmptyState>
                }.into_any(),
                Ok(page) => {
                    let q = query.get_untracked();
                    let older = page.next_before.map(|b| query_string(&q, Some(b)));
                    let newest = q.before.map(|_| query_string(&q, None));
                    view! {
                        <AuditTable entries=page.entries/>
                        <nav class="pager" aria-label="Audit pages">
                            {newest.map(|href| view! { <a class="btn btn-ghost" href=href>"← Newest"</a> })}
                            {older.map(|href| view! { <a class="btn" href=href>"Older →"</a> })}
                        </nav>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_links_keep_the_filters() {
        let q = AuditQuery {
            action: Some("user.signed in".into()),
            ..Default::default()
        };
        assert_eq!(
            query_string(&q, Some(40)),
            "/audit?before=40&action=user.signed%20in"
        );
        assert_eq!(query_string(&AuditQuery::default(), None), "/audit");
    }
}
