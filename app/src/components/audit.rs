//! Audit entries as a table (a card per entry on a phone): the audit page's list and the
//! dashboard's latest changes.

use crate::components::common::TimeAgo;
use crate::model::AuditEntry;
use leptos::prelude::*;

#[component]
pub fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table audit-table phone-cards">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Reason"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries.into_iter().map(|e| view! {
                        <tr>
                            <td class="audit-when"><TimeAgo ms=e.at/></td>
                            <td class="audit-actor"><span class="phone-label">"by "</span>{e.actor}</td>
                            <td class="audit-action"><code>{e.action}</code></td>
                            <td class="audit-target">{e.target}</td>
                            <td class="audit-reason muted">{e.reason.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
