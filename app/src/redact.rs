//! What people who are not admins may see of a URL: scheme, host, port and path. Credentials in
//! the user-info part and everything after `?` or `#` (tokens travel there) are masked, since a
//! webhook deployer's or a probe's URL may carry a secret. A link that is only a link (a CI run's)
//! keeps its query and loses its credentials alone: [`without_credentials`].

/// `https://user:secret@hooks.example/deploy?token=abc` → `https://•••@hooks.example/deploy?•••`.
pub fn mask_url(url: &str) -> String {
    let (base, query, fragment) = split_off_query(url);
    let masked = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = split_authority(rest);
            let host = match authority.rsplit_once('@') {
                Some((_, host)) => format!("•••@{host}"),
                None => authority.to_string(),
            };
            format!("{scheme}://{host}{path}")
        }
        None => base.to_string(),
    };
    match (query, fragment) {
        (None, None) => masked,
        _ => format!("{masked}?•••"),
    }
}

/// `url` without what would let whoever reads it act as its sender: the user-info part
/// (`https://user:token@host`) and query parameters named for a credential (`?private_token=`,
/// `X-Amz-Signature=`, `sig=`). The rest is kept, so a link to a CI run still leads to the run
/// (its site asks who you are). An address with nothing to drop comes back as it was, and so
/// does one that is not http(s): `ssh://git@host/repo` names the user git, not a secret.
pub fn without_credentials(url: &str) -> String {
    let (base, query, fragment) = split_off_query(url);
    let Some((scheme, rest)) = base.split_once("://") else {
        return url.to_string();
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return url.to_string();
    }
    let (authority, path) = split_authority(rest);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let mut out = format!("{scheme}://{host}{path}");
    if let Some(query) = query {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !names_a_credential(pair.split('=').next().unwrap_or("")))
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Whether `url` names a user (`https://user:password@host`, `https://token@host`).
pub fn has_user_info(url: &str) -> bool {
    let (base, _, _) = split_off_query(url);
    base.split_once("://")
        .is_some_and(|(_, rest)| split_authority(rest).0.contains('@'))
}

/// `url` as what comes before `?`, the query and the fragment (after `#`).
fn split_off_query(url: &str) -> (&str, Option<&str>, Option<&str>) {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    match before_fragment.split_once('?') {
        Some((base, query)) => (base, Some(query), fragment),
        None => (before_fragment, None, fragment),
    }
}

/// What follows `scheme://` (with no query or fragment) as its authority (`user@host:port`) and
/// its path.
fn split_authority(rest: &str) -> (&str, &str) {
    rest.split_at(rest.find('/').unwrap_or(rest.len()))
}

/// Whether a query parameter's name says its value is a credential.
fn names_a_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "token",
        "secret",
        "signature",
        "credential",
        "apikey",
        "api_key",
        "api-key",
    ]
    .iter()
    .any(|end| name.ends_with(end))
        || name.contains("password")
        || name.contains("passwd")
        || ["key", "sig", "pwd", "auth", "authorization"].contains(&name.as_str())
}

#[cfg(test)]
mod tests {
    use super::{has_user_info, mask_url, without_credentials};

    #[test]
    fn secrets_in_user_info_query_and_fragment_are_masked() {
        assert_eq!(
            mask_url("https://user:s3cret@hooks.example/deploy?token=abc"),
            "https://•••@hooks.example/deploy?•••"
        );
        assert_eq!(
            mask_url("http://127.0.0.1:8080/healthz"),
            "http://127.0.0.1:8080/healthz"
        );
        assert_eq!(
            mask_url("https://ci.example/hook#k=1"),
            "https://ci.example/hook?•••"
        );
        assert_eq!(
            mask_url("https://t0ken@ci.example"),
            "https://•••@ci.example"
        );
        for secret in ["s3cret", "abc", "t0ken", "k=1"] {
            for url in [
                "https://user:s3cret@hooks.example/deploy?token=abc",
                "https://t0ken@ci.example",
                "https://ci.example/hook#k=1",
            ] {
                if url.contains(secret) {
                    assert!(!mask_url(url).contains(secret), "{url}");
                }
            }
        }
    }

    #[test]
    fn a_link_loses_its_credentials_and_keeps_where_it_leads() {
        for (url, clean) in [
            (
                "https://bob:s3cret@ci.example.com/run/1",
                "https://ci.example.com/run/1",
            ),
            ("https://ghp_t0ken@github.com/o/r", "https://github.com/o/r"),
            (
                "https://gitlab.example/p/-/pipelines/7?private_token=abc&tab=jobs#j1",
                "https://gitlab.example/p/-/pipelines/7?tab=jobs#j1",
            ),
            (
                "https://s3.example/log?X-Amz-Credential=k&X-Amz-Signature=s",
                "https://s3.example/log",
            ),
            (
                "https://h.example/a?sig=x&key=y&auth=z",
                "https://h.example/a",
            ),
            (
                "https://u:p@h.example:8443?pr=3",
                "https://h.example:8443?pr=3",
            ),
            // The user-info ends at the last `@` before the path: `@` further on is the path's.
            (
                "https://u:p@w@h.example/@team/run",
                "https://h.example/@team/run",
            ),
        ] {
            assert_eq!(without_credentials(url), clean, "{url}");
            assert_eq!(without_credentials(clean), clean, "{clean}");
            assert!(!has_user_info(clean), "{clean}");
        }
        // Parameters that merely mention a word of one are not credentials.
        for kept in [
            "https://github.com/o/r/actions/runs/1?check_suite_focus=true",
            "https://ci.example/builds?author=sam&keyword=flaky&monkey=1",
            "not a url",
            // A clone address over ssh: its user is the protocol's, not a credential.
            "ssh://git@git.example.com/pay/checkout.git",
            "git@git.example.com:pay/checkout.git",
        ] {
            assert_eq!(without_credentials(kept), kept);
        }
        assert!(has_user_info("https://t0ken@github.com/o/r"));
        assert!(has_user_info("http://u:p@h.example"));
    }

    proptest::proptest! {
        #[test]
        fn no_credential_survives(
            user in "[a-z0-9._~-]{1,12}",
            secret in "[A-Za-z0-9]{16,24}",
            name in "(access_token|private_token|password|api_key|X-Amz-Signature|sig)",
            path in "(/[a-z0-9@]{0,8}){0,3}",
        ) {
            let url = format!("https://{user}:{secret}@ci.example.com{path}?{name}={secret}&page=2");
            let clean = without_credentials(&url);
            proptest::prop_assert!(!clean.contains(&secret), "{clean}");
            proptest::prop_assert_eq!(clean.clone(), format!("https://ci.example.com{path}?page=2"));
            proptest::prop_assert_eq!(without_credentials(&clean), clean);
        }
    }
}
